package dev.halfbisect.core.verdict;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.metrics.Quantiles;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * When a candidate tensor is close enough to its reference. Every mode first requires the candidate
 * to be finite wherever the reference is finite, then applies its {@link CheckMode}:
 *
 * <ul>
 *   <li>{@code NORMALIZED} (the default, {@link #fp16Default()}): normalized error ||c - r||_2 /
 *       ||r||_2 at most {@link #maxNormalizedError()}; when the reference is ~0 relative to FP16's
 *       resolution ({@link #isNearZero}) the normalized error is not meaningful and the tensor is
 *       judged by its largest absolute error against half the reference's range instead (the
 *       verdict's check is then {@link Verdict#NEAR_ZERO_CHECK} and its reason says so).
 *   <li>{@code ELEMENTWISE}: every element has |c - r| <= atol + rtol |r| (NumPy {@code allclose}
 *       form). Pairs where both sides are NaN or the same infinity pass; other non-finite pairs
 *       fail.
 *   <li>{@code MEAN}, {@code MEDIAN}, {@code MAX}, {@code QUANTILE(q)}: like Polygraphy's {@code
 *       --check-error-stat}, the tensor fails only when that statistic of the absolute error
 *       exceeds atol <em>and</em> that statistic of the relative error exceeds rtol; either one
 *       within its limit passes. Relative error here is halfbisect's |c - r| / (|r| + eps), eps =
 *       {@link ErrorMetrics#REL_EPS}.
 * </ul>
 *
 * Overrides give single outputs (by tensor name) their own tolerance. Instances are immutable.
 */
public final class Tolerance {
  /** Normalized-error limit of the default FP16 verdict. */
  public static final double DEFAULT_MAX_NORMALIZED_ERROR = 1e-2;

  /**
   * A reference whose largest finite |r| is below this (FP16's smallest normal number, 2^-14 =
   * 6.1e-5) lies wholly in FP16's subnormal range, where FP16 has an absolute spacing of 2^-24 and
   * fewer than 10 significant bits: the normalized error there measures that spacing, not a defect
   * (issue 15: a CNN output of max 1.4e-5 had normalized error 1.7e7 in a broken emulation and max
   * abs error 2.3e-6 in TensorRT).
   */
  public static final double NEAR_ZERO_REFERENCE = 0x1p-14;

  /**
   * Near-zero fallback: the candidate passes when its largest absolute error is at most this share
   * of the reference's own range (max |r|), i.e. it is ~0 at the same scale.
   */
  public static final double NEAR_ZERO_RANGE_SHARE = 0.5;

  /** Near-zero fallback floor (16 FP16 subnormal steps, 2^-20), for references that are all 0. */
  public static final double NEAR_ZERO_ABS_FLOOR = 0x1p-20;

  private final CheckMode mode;
  private final double atol;
  private final double rtol;
  private final double maxNormalizedError;
  private final ImmutableMap<String, Tolerance> overrides;

  private Tolerance(
      CheckMode mode,
      double atol,
      double rtol,
      double maxNormalizedError,
      Map<String, Tolerance> overrides) {
    this.mode = Preconditions.checkNotNull(mode, "mode");
    Preconditions.checkArgument(atol >= 0, "atol must be >= 0, got %s", atol);
    Preconditions.checkArgument(rtol >= 0, "rtol must be >= 0, got %s", rtol);
    Preconditions.checkArgument(
        maxNormalizedError >= 0, "normalized-error limit must be >= 0, got %s", maxNormalizedError);
    this.atol = atol;
    this.rtol = rtol;
    this.maxNormalizedError = maxNormalizedError;
    this.overrides = ImmutableMap.copyOf(overrides);
  }

  /**
   * The default for FP16 candidates: finite wherever the reference is finite and normalized error
   * at most 1e-2 (healthy FP16 engines such as all-MiniLM-L6-v2 reach about 3e-3).
   */
  public static Tolerance fp16Default() {
    return normalized(DEFAULT_MAX_NORMALIZED_ERROR);
  }

  /** Normalized error at most {@code limit}. */
  public static Tolerance normalized(double limit) {
    return new Tolerance(CheckMode.NORMALIZED, 0, 0, limit, Map.of());
  }

  /** A Polygraphy-style check: {@code mode} must not be {@code NORMALIZED}. */
  public static Tolerance of(CheckMode mode, double atol, double rtol) {
    Preconditions.checkArgument(
        mode.kind() != CheckMode.Kind.NORMALIZED,
        "use Tolerance.normalized(limit) for the normalized-error check");
    return new Tolerance(mode, atol, rtol, DEFAULT_MAX_NORMALIZED_ERROR, Map.of());
  }

  /** Elementwise |c - r| <= atol + rtol |r|. */
  public static Tolerance elementwise(double atol, double rtol) {
    return of(CheckMode.ELEMENTWISE, atol, rtol);
  }

  /**
   * Parses comma-separated {@code key=value} settings: {@code mode} (see {@link CheckMode#parse}),
   * {@code atol}, {@code rtol}, {@code normalized} (limit). Unset values take the defaults (mode
   * {@code elementwise} when atol or rtol is given, else {@code normalized}; atol = rtol = 1e-5 as
   * in Polygraphy; normalized limit 1e-2). Example: {@code mode=max,atol=1e-2,rtol=1e-3}.
   *
   * @throws IllegalArgumentException naming the bad part
   */
  public static Tolerance parse(String spec) {
    if (spec == null) {
      throw new IllegalArgumentException(
          "tolerance spec is null; expected key=value settings such as mode=max,atol=1e-2");
    }
    CheckMode mode = null;
    double atol = Double.NaN;
    double rtol = Double.NaN;
    double limit = DEFAULT_MAX_NORMALIZED_ERROR;
    for (String part : spec.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "tolerance '" + spec + "': part '" + p + "' is not key=value");
      }
      String key = p.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      String value = p.substring(eq + 1).trim();
      switch (key) {
        case "mode":
          mode = CheckMode.parse(value);
          break;
        case "atol":
          atol = number(spec, key, value);
          break;
        case "rtol":
          rtol = number(spec, key, value);
          break;
        case "normalized":
          limit = number(spec, key, value);
          break;
        default:
          throw new IllegalArgumentException(
              "tolerance '"
                  + spec
                  + "': unknown key '"
                  + key
                  + "', expected mode, atol, rtol or normalized");
      }
    }
    if (mode == null) {
      mode =
          Double.isNaN(atol) && Double.isNaN(rtol) ? CheckMode.NORMALIZED : CheckMode.ELEMENTWISE;
    }
    if (mode.kind() == CheckMode.Kind.NORMALIZED) {
      return normalized(limit);
    }
    atol = Double.isNaN(atol) ? 1e-5 : atol;
    rtol = Double.isNaN(rtol) ? 1e-5 : rtol;
    return new Tolerance(mode, atol, rtol, limit, Map.of());
  }

  private static double number(String spec, String key, String value) {
    try {
      double d = Double.parseDouble(value);
      if (!(d >= 0)) {
        throw new NumberFormatException("negative");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "tolerance '" + spec + "': " + key + " '" + value + "' is not a non-negative number", e);
    }
  }

  public CheckMode mode() {
    return mode;
  }

  public double atol() {
    return atol;
  }

  public double rtol() {
    return rtol;
  }

  public double maxNormalizedError() {
    return maxNormalizedError;
  }

  /** Per-tensor overrides by output name. */
  public ImmutableMap<String, Tolerance> overrides() {
    return overrides;
  }

  /**
   * This tolerance with {@code tensorName} checked by {@code t} instead (t's own overrides are
   * dropped).
   */
  public Tolerance withOverride(String tensorName, Tolerance t) {
    Preconditions.checkNotNull(tensorName, "tensorName");
    ImmutableMap.Builder<String, Tolerance> b = ImmutableMap.builder();
    overrides.forEach(
        (k, v) -> {
          if (!k.equals(tensorName)) {
            b.put(k, v);
          }
        });
    b.put(tensorName, t.withoutOverrides());
    return new Tolerance(mode, atol, rtol, maxNormalizedError, b.build());
  }

  /** The tolerance that applies to {@code tensorName}. */
  public Tolerance forTensor(String tensorName) {
    Tolerance t = overrides.get(tensorName);
    return t != null ? t : withoutOverrides();
  }

  private Tolerance withoutOverrides() {
    return overrides.isEmpty()
        ? this
        : new Tolerance(mode, atol, rtol, maxNormalizedError, Map.of());
  }

  /**
   * Whether the normalized check does not apply to these statistics: the reference is ~0 relative
   * to FP16's resolution ({@link #NEAR_ZERO_REFERENCE}).
   */
  public static boolean isNearZero(ErrorStats stats) {
    return stats.elements() > 0
        && stats.refMaxAbs() < NEAR_ZERO_REFERENCE
        && stats.refNanCount() + stats.refInfCount() < stats.elements();
  }

  /** The absolute limit of the near-zero fallback for a reference range of {@code refMaxAbs}. */
  public static double nearZeroLimit(double refMaxAbs) {
    return Math.max(NEAR_ZERO_RANGE_SHARE * refMaxAbs, NEAR_ZERO_ABS_FLOOR);
  }

  private static Verdict nearZero(String tensorName, ErrorStats stats) {
    double limit = nearZeroLimit(stats.refMaxAbs());
    boolean pass = stats.maxAbs() <= limit;
    return new Verdict(
        tensorName,
        pass,
        String.format(
            Locale.ROOT,
            "%s: reference is ~0 (max |r| %.3g < FP16's smallest normal 6.1e-05), so normalized "
                + "error %.3g is not meaningful; max abs error %.3g %s limit %.3g (half the "
                + "reference's range)",
            tensorName,
            stats.refMaxAbs(),
            stats.normalizedError(),
            stats.maxAbs(),
            pass ? "<=" : ">",
            limit),
        Verdict.NEAR_ZERO_CHECK,
        stats.maxAbs(),
        limit,
        "atol",
        stats.maxAbs());
  }

  /** Whether {@link #check} needs the element arrays (elementwise and quantile modes). */
  public boolean needsElements(String tensorName) {
    CheckMode.Kind k = forTensor(tensorName).mode.kind();
    return k == CheckMode.Kind.ELEMENTWISE || k == CheckMode.Kind.QUANTILE;
  }

  /**
   * {@link #check(String, ErrorStats, float[], float[])} for modes that need only the statistics.
   */
  public Verdict check(String tensorName, ErrorStats stats) {
    return check(tensorName, stats, null, null);
  }

  /**
   * Checks one tensor. {@code reference} and {@code candidate} may be null unless {@link
   * #needsElements} says otherwise; when {@code stats} merge several samples the arrays must be
   * those of the worst sample or the check is skipped (use {@link #check(String, ErrorStats)} with
   * a statistic mode).
   *
   * @throws IllegalArgumentException when the mode needs element arrays and they are missing
   */
  public Verdict check(String tensorName, ErrorStats stats, float[] reference, float[] candidate) {
    Tolerance t = forTensor(tensorName);
    if (stats.nonFiniteWhereRefFinite() > 0) {
      long bad = stats.nonFiniteWhereRefFinite();
      return new Verdict(
          tensorName,
          false,
          String.format(
              Locale.ROOT,
              "%s: candidate is NaN or infinite at %d element(s) where the reference is finite "
                  + "(candidate NaN %d, Inf %d)",
              tensorName,
              bad,
              stats.candNanCount(),
              stats.candInfCount()),
          "finite",
          bad,
          0,
          "none",
          Double.POSITIVE_INFINITY);
    }
    switch (t.mode.kind()) {
      case NORMALIZED:
        {
          if (isNearZero(stats)) {
            return nearZero(tensorName, stats);
          }
          double e = stats.normalizedError();
          boolean pass = e <= t.maxNormalizedError;
          return new Verdict(
              tensorName,
              pass,
              String.format(
                  Locale.ROOT,
                  "%s: normalized error %.3g %s limit %.3g",
                  tensorName,
                  e,
                  pass ? "<=" : ">",
                  t.maxNormalizedError),
              "normalized",
              e,
              t.maxNormalizedError,
              "normalizedError",
              e);
        }
      case ELEMENTWISE:
        return t.checkElementwise(
            tensorName,
            requireArray(tensorName, reference, "reference"),
            requireArray(tensorName, candidate, "candidate"));
      case MEAN:
        return t.statistic(tensorName, "mean", stats.meanAbs(), stats.meanRel());
      case MEDIAN:
        return t.statistic(tensorName, "median", stats.medianAbs(), stats.medianRel());
      case MAX:
        return t.statistic(tensorName, "max", stats.maxAbs(), stats.maxRel());
      case QUANTILE:
        {
          float[] r = requireArray(tensorName, reference, "reference");
          float[] c = requireArray(tensorName, candidate, "candidate");
          Preconditions.checkArgument(
              r.length == c.length,
              "%s: reference has %s elements, candidate %s",
              tensorName,
              r.length,
              c.length);
          float[] abs = new float[r.length];
          float[] rel = new float[r.length];
          for (int i = 0; i < r.length; i++) {
            double e = elementError(r[i], c[i]);
            abs[i] = (float) e;
            rel[i] =
                (float)
                    (Double.isInfinite(e)
                        ? e
                        : e / (Math.abs((double) r[i]) + ErrorMetrics.REL_EPS));
          }
          double q = t.mode.quantile();
          return t.statistic(
              tensorName,
              "quantile " + q,
              Quantiles.of(abs, abs.length, q)[0],
              Quantiles.of(rel, rel.length, q)[0]);
        }
      default:
        throw new AssertionError(t.mode);
    }
  }

  private Verdict statistic(String tensorName, String stat, double abs, double rel) {
    boolean absOk = abs <= atol;
    boolean relOk = rel <= rtol;
    boolean pass = absOk || relOk;
    String reason =
        String.format(
            Locale.ROOT,
            "%s: %s absolute error %.3g %s atol %.3g, %s relative error %.3g %s rtol %.3g",
            tensorName,
            stat,
            abs,
            absOk ? "<=" : ">",
            atol,
            stat,
            rel,
            relOk ? "<=" : ">",
            rtol);
    // the check passes at the given rtol once atol reaches the statistic (or at once if rel passes)
    return new Verdict(
        tensorName, pass, reason, mode.toString(), abs, atol, "atol", relOk ? 0 : abs);
  }

  private Verdict checkElementwise(String tensorName, float[] r, float[] c) {
    Preconditions.checkArgument(
        r.length == c.length,
        "%s: reference has %s elements, candidate %s",
        tensorName,
        r.length,
        c.length);
    long failing = 0;
    int worst = -1;
    double worstExcess = Double.NEGATIVE_INFINITY;
    double neededAtol = 0;
    for (int i = 0; i < r.length; i++) {
      double e = elementError(r[i], c[i]);
      double allowedByRtol = rtol * Math.abs((double) r[i]);
      double needed = Double.isInfinite(e) ? e : Math.max(0, e - allowedByRtol);
      if (needed + allowedByRtol < e) {
        needed = Math.nextUp(needed); // so that the reported atol really passes despite rounding
      }
      neededAtol = Math.max(neededAtol, needed);
      double excess = e - (atol + allowedByRtol);
      if (excess > 0) {
        failing++;
      }
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    boolean pass = failing == 0;
    String reason;
    if (r.length == 0) {
      reason = tensorName + ": no elements";
    } else {
      reason =
          String.format(
              Locale.ROOT,
              "%s: %d of %d element(s) exceed |c-r| <= atol %.3g + rtol %.3g * |r|; worst at index %d: "
                  + "reference %s, candidate %s",
              tensorName,
              failing,
              r.length,
              atol,
              rtol,
              worst,
              r[worst],
              c[worst]);
    }
    return new Verdict(tensorName, pass, reason, "elementwise", failing, 0, "atol", neededAtol);
  }

  /**
   * |c - r| with agreeing non-finite pairs 0 and disagreeing ones +inf, as in {@link ErrorMetrics}.
   */
  private static double elementError(float r, float c) {
    if (Float.isFinite(r) && Float.isFinite(c)) {
      return Math.abs((double) c - r);
    }
    boolean agree = (Float.isNaN(r) && Float.isNaN(c)) || (Float.isInfinite(r) && r == c);
    return agree ? 0 : Double.POSITIVE_INFINITY;
  }

  private static float[] requireArray(String tensorName, float[] a, String what) {
    if (a == null) {
      throw new IllegalArgumentException(
          tensorName
              + ": this tolerance checks elements and needs the "
              + what
              + " values, not only the statistics");
    }
    return a;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Tolerance)) {
      return false;
    }
    Tolerance t = (Tolerance) o;
    return mode.equals(t.mode)
        && atol == t.atol
        && rtol == t.rtol
        && maxNormalizedError == t.maxNormalizedError
        && overrides.equals(t.overrides);
  }

  @Override
  public int hashCode() {
    return Objects.hash(mode, atol, rtol, maxNormalizedError, overrides);
  }

  @Override
  public String toString() {
    String base =
        mode.kind() == CheckMode.Kind.NORMALIZED
            ? "normalized<=" + maxNormalizedError
            : mode + "(atol=" + atol + ", rtol=" + rtol + ")";
    return overrides.isEmpty() ? base : base + " overrides=" + overrides;
  }
}
