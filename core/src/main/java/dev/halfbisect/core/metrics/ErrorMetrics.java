package dev.halfbisect.core.metrics;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Compares a candidate tensor with its reference in one pass over the data plus one selection step
 * for medians and percentiles: the main pass also fills a histogram of the high bits of each error,
 * and a radix selection refines it with one more pass (no sort, no copy of the data, O(n); see
 * {@code RankHistogram}). All sums are accumulated in double; max and mean are exact in double,
 * medians and percentiles are ranked over the errors rounded to float (relative difference at most
 * 6e-8) and interpolate linearly between neighbouring ranks (NumPy's default).
 *
 * <p>Definitions, with r the reference and c the candidate element:
 *
 * <ul>
 *   <li>absolute error |c - r|; relative error |c - r| / (|r| + {@link #REL_EPS});
 *   <li>normalized error ||c - r||_2 / ||r||_2 with 0/0 = 0 and x/0 = +inf;
 *   <li>SNR 10 log10(||r||^2 / ||c - r||^2) dB, +inf when the error is zero, -inf when the
 *       reference is zero and the error is not;
 *   <li>cosine r.c / (||r|| ||c||), 1 when both are zero, 0 when exactly one is.
 * </ul>
 *
 * <p>NaN and infinity: a pair <em>agrees</em> when both sides are NaN or both are the same
 * infinity; it then counts as error 0 in every error statistic and is left out of the norms, the
 * cosine and the SNR. A pair that does not agree and has a non-finite side <em>disagrees</em>: its
 * absolute and relative errors are +inf (so max, mean and the upper percentiles become +inf), the
 * normalized error becomes +inf, the SNR -inf, and it counts in {@code fractionRelOver10pct}; the
 * cosine is taken over pairs where both sides are finite only. NaN/Inf are counted per side and
 * {@code nonFiniteWhereRefFinite} counts finite references with a non-finite candidate. Reference
 * range statistics look at finite reference values only.
 *
 * <p>Saturation: a candidate of exactly +-65504 where the finite reference is beyond FP16's range
 * (|r| >= 65520) with the same sign counts as equal to the reference (see {@link #saturated});
 * reference range statistics still count the value as above 65504.
 */
public final class ErrorMetrics {
  /**
   * Added to |r| in the relative error's denominator so that zeros in the reference stay finite.
   */
  public static final double REL_EPS = 1e-6;

  /** A relative error above this counts in {@link ErrorStats#fractionRelOver10pct()}. */
  public static final double REL_THRESHOLD = 0.1;

  private static final double FP16_MAX = 65504.0;
  private static final double FP16_MIN_NORMAL = 0x1p-14;
  private static final double FP16_MIN_SUBNORMAL = 0x1p-24;

  private ErrorMetrics() {}

  /**
   * Statistics of {@code candidate} against {@code reference}.
   *
   * @throws IllegalArgumentException when the lengths differ
   */
  public static ErrorStats compare(float[] reference, float[] candidate) {
    Preconditions.checkNotNull(reference, "reference");
    Preconditions.checkNotNull(candidate, "candidate");
    Preconditions.checkArgument(
        reference.length == candidate.length,
        "reference has %s elements but candidate has %s",
        reference.length,
        candidate.length);
    int n = reference.length;
    RankHistogram absRanks = new RankHistogram();
    RankHistogram relRanks = new RankHistogram();

    double sumAbs = 0;
    double sumRel = 0;
    double maxAbs = 0;
    double maxRel = 0;
    double sumD2 = 0;
    double sumR2 = 0;
    double sumC2 = 0;
    double dot = 0;
    long relOver = 0;
    long disagree = 0;
    long refNan = 0;
    long refInf = 0;
    long candNan = 0;
    long candInf = 0;
    long nonFiniteWhereRefFinite = 0;
    double refMaxAbs = 0;
    long refAbove = 0;
    long refBelowNormal = 0;
    long refBelowSub = 0;

    for (int i = 0; i < n; i++) {
      float rf = reference[i];
      float cf = saturated(rf, candidate[i]);
      boolean rFinite = Float.isFinite(rf);
      if (rFinite & Float.isFinite(cf)) {
        double r = rf;
        double c = cf;
        double d = c - r; // exact in double
        double ad = Math.abs(d);
        double ar = Math.abs(r);
        double rel = ad / (ar + REL_EPS);
        sumAbs += ad;
        sumRel += rel;
        maxAbs = Math.max(maxAbs, ad);
        maxRel = Math.max(maxRel, rel);
        if (rel > REL_THRESHOLD) {
          relOver++;
        }
        sumD2 += d * d;
        sumR2 += r * r;
        sumC2 += c * c;
        dot += r * c;
        absRanks.add(Float.floatToRawIntBits((float) ad));
        relRanks.add(Float.floatToRawIntBits((float) rel));
        refMaxAbs = Math.max(refMaxAbs, ar);
        if (ar < FP16_MIN_NORMAL) {
          if (ar > 0) {
            refBelowNormal++;
            if (ar < FP16_MIN_SUBNORMAL) {
              refBelowSub++;
            }
          }
        } else if (ar > FP16_MAX) {
          refAbove++;
        }
        continue;
      }
      // rare path: at least one side is NaN or infinite
      if (Float.isNaN(rf)) {
        refNan++;
      } else if (!rFinite) {
        refInf++;
      } else {
        double ar = Math.abs((double) rf);
        refMaxAbs = Math.max(refMaxAbs, ar);
        if (ar > FP16_MAX) {
          refAbove++;
        } else if (ar > 0 && ar < FP16_MIN_NORMAL) {
          refBelowNormal++;
          if (ar < FP16_MIN_SUBNORMAL) {
            refBelowSub++;
          }
        }
      }
      if (Float.isNaN(cf)) {
        candNan++;
      } else if (Float.isInfinite(cf)) {
        candInf++;
      }
      if (rFinite) {
        nonFiniteWhereRefFinite++;
      }
      boolean agree = (Float.isNaN(rf) && Float.isNaN(cf)) || (Float.isInfinite(rf) && rf == cf);
      if (agree) {
        absRanks.add(0);
        relRanks.add(0);
      } else {
        disagree++;
        absRanks.add(INF_BITS);
        relRanks.add(INF_BITS);
      }
    }

    double meanAbs;
    double meanRel;
    if (disagree > 0) {
      maxAbs = maxRel = meanAbs = meanRel = Double.POSITIVE_INFINITY;
    } else {
      meanAbs = n == 0 ? 0 : sumAbs / n;
      meanRel = n == 0 ? 0 : sumRel / n;
    }
    double[] absQ = new double[4];
    double[] relQ = new double[1];
    selectQuantiles(reference, candidate, absRanks, relRanks, absQ, relQ);

    double normalized;
    double snr;
    if (disagree > 0) {
      normalized = Double.POSITIVE_INFINITY;
      snr = Double.NEGATIVE_INFINITY;
    } else {
      normalized = ratio(Math.sqrt(sumD2), Math.sqrt(sumR2));
      if (sumD2 == 0) {
        snr = Double.POSITIVE_INFINITY;
      } else if (sumR2 == 0) {
        snr = Double.NEGATIVE_INFINITY;
      } else {
        snr = 10 * Math.log10(sumR2 / sumD2);
      }
    }
    double cosine;
    if (sumR2 == 0 && sumC2 == 0) {
      cosine = 1;
    } else if (sumR2 == 0 || sumC2 == 0) {
      cosine = 0;
    } else {
      cosine = Math.max(-1, Math.min(1, dot / (Math.sqrt(sumR2) * Math.sqrt(sumC2))));
    }
    return new ErrorStats(
        n,
        1,
        maxAbs,
        meanAbs,
        absQ[0],
        absQ[1],
        absQ[2],
        absQ[3],
        maxRel,
        meanRel,
        relQ[0],
        cosine,
        normalized,
        snr,
        n == 0 ? 0 : (double) (relOver + disagree) / n,
        refNan,
        refInf,
        candNan,
        candInf,
        nonFiniteWhereRefFinite,
        refMaxAbs,
        refAbove,
        refBelowNormal,
        refBelowSub);
  }

  /**
   * Statistics of two tensors of the same shape, both read as floats ({@link
   * Tensor#toFloatArray()}).
   *
   * @throws IllegalArgumentException naming both shapes when they differ
   */
  public static ErrorStats compare(Tensor reference, Tensor candidate) {
    Preconditions.checkArgument(
        Arrays.equals(reference.shape(), candidate.shape()),
        "cannot compare reference of shape %s with candidate of shape %s",
        Tensor.shapeToString(reference.shape()),
        Tensor.shapeToString(candidate.shape()));
    return compare(reference.toFloatArray(), candidate.toFloatArray());
  }

  /**
   * The worst case over N samples of one tensor ({@link ErrorStats#worstOf}): {@code references}
   * and {@code candidates} hold the same tensor for each sample, in sample order.
   *
   * @throws IllegalArgumentException when the lists are empty or differ in length, or a pair's
   *     shapes differ (naming the sample and both shapes)
   */
  public static ErrorStats compareSamples(List<Tensor> references, List<Tensor> candidates) {
    Preconditions.checkArgument(!references.isEmpty(), "no samples to compare");
    Preconditions.checkArgument(
        references.size() == candidates.size(),
        "%s reference samples but %s candidate samples",
        references.size(),
        candidates.size());
    List<ErrorStats> all = new ArrayList<>(references.size());
    for (int i = 0; i < references.size(); i++) {
      try {
        all.add(compare(references.get(i), candidates.get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("sample " + i + ": " + e.getMessage(), e);
      }
    }
    return ErrorStats.worstOf(all);
  }

  private static final double[] ABS_QUANTILES = {0.5, 0.9, 0.95, 0.99};
  private static final double[] REL_QUANTILES = {0.5};
  private static final int INF_BITS = Float.floatToRawIntBits(Float.POSITIVE_INFINITY);

  /**
   * The selection step: radix selection over the histograms the main pass filled, refined by one
   * more pass that recomputes each element's errors exactly as the main pass did. Quantiles
   * interpolate linearly between neighbouring ranks (NumPy's default).
   */
  private static void selectQuantiles(
      float[] reference,
      float[] candidate,
      RankHistogram absRanks,
      RankHistogram relRanks,
      double[] absQ,
      double[] relQ) {
    int n = reference.length;
    if (n == 0) {
      return;
    }
    absRanks.prepare(neighbourRanks(n, ABS_QUANTILES));
    relRanks.prepare(neighbourRanks(n, REL_QUANTILES));
    for (int i = 0; i < n; i++) {
      float rf = reference[i];
      float cf = saturated(rf, candidate[i]);
      if (Float.isFinite(rf) & Float.isFinite(cf)) {
        double r = rf;
        double ad = Math.abs((double) cf - r);
        absRanks.refine(Float.floatToRawIntBits((float) ad));
        relRanks.refine(Float.floatToRawIntBits((float) (ad / (Math.abs(r) + REL_EPS))));
      } else {
        boolean agree = (Float.isNaN(rf) && Float.isNaN(cf)) || (Float.isInfinite(rf) && rf == cf);
        absRanks.refine(agree ? 0 : INF_BITS);
        relRanks.refine(agree ? 0 : INF_BITS);
      }
    }
    interpolate(n, ABS_QUANTILES, absRanks, absQ);
    interpolate(n, REL_QUANTILES, relRanks, relQ);
  }

  /** For each quantile the rank at floor(q (n - 1)) and the one above it. */
  private static long[] neighbourRanks(int n, double[] qs) {
    long[] ranks = new long[2 * qs.length];
    for (int i = 0; i < qs.length; i++) {
      long lo = (long) Math.floor(qs[i] * (n - 1));
      ranks[2 * i] = lo;
      ranks[2 * i + 1] = Math.min(lo + 1, n - 1);
    }
    return ranks;
  }

  private static void interpolate(int n, double[] qs, RankHistogram ranks, double[] out) {
    for (int i = 0; i < qs.length; i++) {
      double pos = qs[i] * (n - 1);
      double frac = pos - Math.floor(pos);
      double low = ranks.value(2 * i);
      double high = ranks.value(2 * i + 1);
      out[i] = frac == 0 || low == high ? low : low + frac * (high - low);
    }
  }

  /**
   * The candidate value to compare: {@code r} itself when the candidate saturates at FP16's largest
   * value of the reference's sign (c = +-65504 where finite |r| >= 65520), else {@code c}. FP16
   * arithmetic never yields +-65504 for a true value of 65520 or more (it overflows to inf), so
   * such a pair is a constant TensorRT clamped to +-65504 at parse time (the -3.4e38 of attention
   * masks): harmless where it is only a "very negative" fill, and judged where it matters, in the
   * tensors downstream of it (issue 15).
   */
  static float saturated(float r, float c) {
    return Math.abs(r) >= FP16_OVERFLOW && Float.isFinite(r) && c == Math.copySign(FP16_MAX_F, r)
        ? r
        : c;
  }

  private static final float FP16_MAX_F = 65504f;

  /** The smallest magnitude FP16 rounding turns into inf (65504 + half a step of 32). */
  private static final float FP16_OVERFLOW = 65520f;

  /** x / y with 0/0 = 0 and x/0 = +inf. */
  static double ratio(double x, double y) {
    if (y == 0) {
      return x == 0 ? 0 : Double.POSITIVE_INFINITY;
    }
    return x / y;
  }
}
