package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;

/**
 * When a candidate tensor is close enough to its reference. The default is the project's FP16
 * verdict: finite wherever the reference is finite, and normalized error at most 1e-2.
 *
 * @param maxNormalizedError largest accepted ||c - r|| / ||r||
 * @param maxAbs largest accepted elementwise |c - r| (infinity: not checked)
 */
public record Criterion(double maxNormalizedError, double maxAbs) {
  public Criterion {
    Preconditions.checkArgument(maxNormalizedError >= 0, "maxNormalizedError must be >= 0, got %s", maxNormalizedError);
    Preconditions.checkArgument(maxAbs >= 0, "maxAbs must be >= 0, got %s", maxAbs);
  }

  /** Normalized error at most 1e-2, no new NaN/inf. */
  public static Criterion fp16Default() {
    return new Criterion(1e-2, Double.POSITIVE_INFINITY);
  }

  public static Criterion normalized(double maxNormalizedError) {
    return new Criterion(maxNormalizedError, Double.POSITIVE_INFINITY);
  }

  boolean passes(double normalizedError, double absError, long nonFiniteMismatches) {
    return nonFiniteMismatches == 0 && normalizedError <= maxNormalizedError && absError <= maxAbs;
  }

  /** Stable text used in probe keys. */
  String key() {
    return "norm<=" + maxNormalizedError + ",abs<=" + maxAbs;
  }
}
