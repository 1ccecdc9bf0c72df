package dev.halfbisect.core.metrics;

import java.util.Collection;
import java.util.Iterator;

/**
 * Every error statistic of one candidate tensor against its reference (see {@link ErrorMetrics} for
 * how each value is defined and how NaN/Inf enter it). Also the worst case over several samples:
 * {@link #worstOf(Collection)}.
 *
 * @param elements number of compared elements (largest over merged samples)
 * @param samples number of samples these statistics cover (1 for one comparison)
 * @param maxAbs largest |c - r|
 * @param meanAbs mean of |c - r|
 * @param medianAbs median of |c - r| (mean of the two middle values for even counts)
 * @param p90Abs 90th percentile of |c - r| (linear interpolation, NumPy's default method)
 * @param p95Abs 95th percentile of |c - r|
 * @param p99Abs 99th percentile of |c - r|
 * @param maxRel largest |c - r| / (|r| + {@link ErrorMetrics#REL_EPS})
 * @param meanRel mean relative error
 * @param medianRel median relative error
 * @param cosine cosine similarity of candidate and reference over pairs where both are finite
 * @param normalizedError ||c - r||_2 / ||r||_2
 * @param snrDb 10 log10(||r||^2 / ||c - r||^2)
 * @param fractionRelOver10pct share of elements whose relative error exceeds 0.1
 * @param refNanCount NaN elements of the reference
 * @param refInfCount infinite elements of the reference
 * @param candNanCount NaN elements of the candidate
 * @param candInfCount infinite elements of the candidate
 * @param nonFiniteWhereRefFinite elements where the reference is finite and the candidate is not
 * @param refMaxAbs largest finite |r|
 * @param refCountAboveFp16Max finite reference elements with |r| > 65504
 * @param refCountBelowFp16MinNormal reference elements with 0 < |r| < 2^-14
 * @param refCountBelowFp16MinSubnormal reference elements with 0 < |r| < 2^-24
 */
public record ErrorStats(
    long elements,
    int samples,
    double maxAbs,
    double meanAbs,
    double medianAbs,
    double p90Abs,
    double p95Abs,
    double p99Abs,
    double maxRel,
    double meanRel,
    double medianRel,
    double cosine,
    double normalizedError,
    double snrDb,
    double fractionRelOver10pct,
    long refNanCount,
    long refInfCount,
    long candNanCount,
    long candInfCount,
    long nonFiniteWhereRefFinite,
    double refMaxAbs,
    long refCountAboveFp16Max,
    long refCountBelowFp16MinNormal,
    long refCountBelowFp16MinSubnormal) {

  /** Whether the candidate is finite wherever the reference is. */
  public boolean candidateFiniteWhereReferenceFinite() {
    return nonFiniteWhereRefFinite == 0;
  }

  /**
   * The worst value of each statistic over several samples: the largest error, count, share and
   * reference range, the smallest cosine and SNR. {@code samples} is the sum, {@code elements} the
   * largest. The result is not the statistics of the concatenated data; it answers "how bad did any
   * sample get", which is what a search over N samples must pass.
   *
   * @throws IllegalArgumentException when {@code all} is empty
   */
  public static ErrorStats worstOf(Collection<ErrorStats> all) {
    Iterator<ErrorStats> it = all.iterator();
    if (!it.hasNext()) {
      throw new IllegalArgumentException("worstOf needs at least one ErrorStats");
    }
    ErrorStats w = it.next();
    while (it.hasNext()) {
      w = w.worst(it.next());
    }
    return w;
  }

  /** Worst of this and {@code o} per statistic (see {@link #worstOf}). */
  public ErrorStats worst(ErrorStats o) {
    return new ErrorStats(
        Math.max(elements, o.elements),
        samples + o.samples,
        Math.max(maxAbs, o.maxAbs),
        Math.max(meanAbs, o.meanAbs),
        Math.max(medianAbs, o.medianAbs),
        Math.max(p90Abs, o.p90Abs),
        Math.max(p95Abs, o.p95Abs),
        Math.max(p99Abs, o.p99Abs),
        Math.max(maxRel, o.maxRel),
        Math.max(meanRel, o.meanRel),
        Math.max(medianRel, o.medianRel),
        Math.min(cosine, o.cosine),
        Math.max(normalizedError, o.normalizedError),
        Math.min(snrDb, o.snrDb),
        Math.max(fractionRelOver10pct, o.fractionRelOver10pct),
        Math.max(refNanCount, o.refNanCount),
        Math.max(refInfCount, o.refInfCount),
        Math.max(candNanCount, o.candNanCount),
        Math.max(candInfCount, o.candInfCount),
        Math.max(nonFiniteWhereRefFinite, o.nonFiniteWhereRefFinite),
        Math.max(refMaxAbs, o.refMaxAbs),
        Math.max(refCountAboveFp16Max, o.refCountAboveFp16Max),
        Math.max(refCountBelowFp16MinNormal, o.refCountBelowFp16MinNormal),
        Math.max(refCountBelowFp16MinSubnormal, o.refCountBelowFp16MinSubnormal));
  }
}
