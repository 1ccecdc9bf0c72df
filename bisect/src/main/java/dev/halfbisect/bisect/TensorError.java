package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.core.verdict.Verdict;

/**
 * Error of one candidate tensor against its reference on one sample: core's full {@link ErrorStats}
 * and the {@link Tolerance}'s {@link Verdict}.
 */
public record TensorError(ErrorStats stats, Verdict verdict) {
  public TensorError {
    Preconditions.checkNotNull(stats, "stats");
    Preconditions.checkNotNull(verdict, "verdict");
  }

  static TensorError measure(String tensor, float[] ref, float[] cand, Tolerance tolerance) {
    ErrorStats s = ErrorMetrics.compare(ref, cand);
    return new TensorError(s, tolerance.check(tensor, s, ref, cand));
  }

  /** ||c - r|| / ||r|| (+inf when the candidate is non-finite where the reference is finite). */
  public double normalizedError() {
    return stats.normalizedError();
  }

  public double maxAbs() {
    return stats.maxAbs();
  }

  /** Elements finite in the reference but NaN/inf in the candidate. */
  public long nonFiniteMismatches() {
    return stats.nonFiniteWhereRefFinite();
  }

  /** Whether every candidate element is NaN (a broken probe). */
  public boolean allNaN() {
    return stats.elements() > 0 && stats.candNanCount() == stats.elements();
  }

  public boolean pass() {
    return verdict.pass();
  }
}
