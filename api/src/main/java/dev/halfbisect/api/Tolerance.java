package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import java.util.Locale;
import java.util.Objects;

/**
 * When a candidate tensor passes against its reference. The default ({@link #fp16Default()}):
 * finite wherever the reference is finite and normalized error ||c - r|| / ||r|| at most 1e-2.
 * With {@link #withAtol}/{@link #withRtol} it becomes a Polygraphy-style check: an element passes
 * when |c - r| &lt;= atol or |c - r| / |r| &lt;= rtol, applied to every element ({@link
 * Statistic#ELEMENTWISE}) or to a statistic of the errors (mean, median, max, a quantile).
 * Immutable.
 */
public final class Tolerance {
  /** Which errors the atol/rtol bounds apply to. */
  public enum Statistic { ELEMENTWISE, MEAN, MEDIAN, MAX, QUANTILE }

  private final double maxNormalizedError;
  private final Double atol;
  private final Double rtol;
  private final Statistic statistic;
  private final double quantile;

  private Tolerance(double maxNormalizedError, Double atol, Double rtol, Statistic statistic, double quantile) {
    Preconditions.checkArgument(maxNormalizedError > 0, "normalized error bound must be > 0, got %s", maxNormalizedError);
    Preconditions.checkArgument(atol == null || atol >= 0, "atol must be >= 0, got %s", atol);
    Preconditions.checkArgument(rtol == null || rtol >= 0, "rtol must be >= 0, got %s", rtol);
    Preconditions.checkArgument(quantile > 0 && quantile <= 1, "quantile must be in (0, 1], got %s", quantile);
    this.maxNormalizedError = maxNormalizedError;
    this.atol = atol;
    this.rtol = rtol;
    this.statistic = Preconditions.checkNotNull(statistic);
    this.quantile = quantile;
  }

  /** Finite and normalized error at most 1e-2: passes healthy FP16 engines (MiniLM: 3.3e-3). */
  public static Tolerance fp16Default() {
    return new Tolerance(1e-2, null, null, Statistic.ELEMENTWISE, 0.99);
  }

  /** Finite and normalized error at most {@code bound}. */
  public static Tolerance normalizedError(double bound) {
    return new Tolerance(bound, null, null, Statistic.ELEMENTWISE, 0.99);
  }

  /** Polygraphy-style absolute/relative tolerance applied to every element. */
  public static Tolerance of(double atol, double rtol) {
    return fp16Default().withAtol(atol).withRtol(rtol);
  }

  public Tolerance withAtol(double a) {
    return new Tolerance(maxNormalizedError, a, rtol, statistic, quantile);
  }

  public Tolerance withRtol(double r) {
    return new Tolerance(maxNormalizedError, atol, r, statistic, quantile);
  }

  public Tolerance withStatistic(Statistic s) {
    return new Tolerance(maxNormalizedError, atol, rtol, s, quantile);
  }

  /**
   * Parses {@code elementwise}, {@code mean}, {@code median}, {@code max} or {@code quantile:Q}.
   *
   * @throws IllegalArgumentException naming the accepted forms
   */
  public Tolerance withCheck(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("quantile:")) {
      double q;
      try {
        q = Double.parseDouble(t.substring("quantile:".length()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("check '" + text + "': quantile must be a number in (0, 1], e.g. quantile:0.99");
      }
      return new Tolerance(maxNormalizedError, atol, rtol, Statistic.QUANTILE, q);
    }
    for (Statistic s : Statistic.values()) {
      if (s != Statistic.QUANTILE && s.name().equalsIgnoreCase(t)) {
        return withStatistic(s);
      }
    }
    throw new IllegalArgumentException("unknown check '" + text + "': expected elementwise, mean, median, max or quantile:Q");
  }

  public double maxNormalizedError() {
    return maxNormalizedError;
  }

  /** Whether atol/rtol bounds replace the normalized-error bound. */
  public boolean isPolygraphyStyle() {
    return atol != null || rtol != null;
  }

  public Statistic statistic() {
    return statistic;
  }

  /**
   * Checks one tensor.
   *
   * @return null when it passes, else the reason (which bound failed, by how much)
   */
  String check(float[] ref, float[] cand, TensorError.Stats stats) {
    if (stats.newNonFinite() > 0) {
      return stats.newNonFinite() + " non-finite value(s) where the reference is finite";
    }
    if (!isPolygraphyStyle()) {
      return stats.normalizedError() <= maxNormalizedError ? null
          : String.format(Locale.ROOT, "normalized error %.3g > %.3g", stats.normalizedError(), maxNormalizedError);
    }
    double a = atol == null ? -1 : atol;
    double r = rtol == null ? -1 : rtol;
    int n = Math.min(ref.length, cand.length);
    double[] abs = new double[n];
    double[] rel = new double[n];
    int failing = 0;
    for (int i = 0; i < n; i++) {
      if (!Float.isFinite(ref[i])) {
        continue;
      }
      abs[i] = Math.abs((double) cand[i] - ref[i]);
      rel[i] = abs[i] / (Math.abs((double) ref[i]) + 1e-12);
      if (!(abs[i] <= a || rel[i] <= r)) {
        failing++;
      }
    }
    if (statistic == Statistic.ELEMENTWISE) {
      return failing == 0 ? null : failing + " of " + n + " elements exceed atol=" + fmt(atol) + " and rtol=" + fmt(rtol);
    }
    double sa = statistic(abs);
    double sr = statistic(rel);
    if (sa <= a || sr <= r) {
      return null;
    }
    return String.format(Locale.ROOT, "%s abs error %.3g > atol=%s and %s rel error %.3g > rtol=%s",
        describeStatistic(), sa, fmt(atol), describeStatistic(), sr, fmt(rtol));
  }

  private String describeStatistic() {
    return statistic == Statistic.QUANTILE ? "q" + quantile : statistic.name().toLowerCase(Locale.ROOT);
  }

  private static String fmt(Double d) {
    return d == null ? "unset" : String.format(Locale.ROOT, "%.3g", d);
  }

  private double statistic(double[] v) {
    if (v.length == 0) {
      return 0;
    }
    switch (statistic) {
      case MEAN: {
        double s = 0;
        for (double x : v) {
          s += x;
        }
        return s / v.length;
      }
      case MAX: {
        double m = 0;
        for (double x : v) {
          m = Math.max(m, x);
        }
        return m;
      }
      default: {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        double q = statistic == Statistic.MEDIAN ? 0.5 : quantile;
        int idx = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
        return s[idx];
      }
    }
  }

  @Override
  public String toString() {
    if (!isPolygraphyStyle()) {
      return String.format(Locale.ROOT, "finite and normalized error <= %.3g", maxNormalizedError);
    }
    return "atol=" + fmt(atol) + " rtol=" + fmt(rtol) + " check=" + describeStatistic();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tolerance t && t.maxNormalizedError == maxNormalizedError && Objects.equals(t.atol, atol)
        && Objects.equals(t.rtol, rtol) && t.statistic == statistic && t.quantile == quantile;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxNormalizedError, atol, rtol, statistic, quantile);
  }
}
