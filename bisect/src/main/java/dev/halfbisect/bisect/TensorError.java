package dev.halfbisect.bisect;

/**
 * Error of one candidate tensor against its reference on one sample.
 *
 * @param normalizedError ||c - r||_2 / ||r||_2 over elements finite on both sides; +inf when the
 *     candidate is non-finite where the reference is finite
 * @param maxAbs largest |c - r| over elements finite on both sides
 * @param nonFiniteMismatches elements finite in the reference but NaN/inf in the candidate
 * @param allNaN whether every candidate element is NaN (a broken probe)
 * @param pass the verdict of the {@link Criterion}
 */
public record TensorError(double normalizedError, double maxAbs, long nonFiniteMismatches, boolean allNaN,
    boolean pass) {

  /** Computes the error numbers; the verdict is the criterion's. */
  static TensorError measure(float[] ref, float[] cand, Criterion criterion) {
    if (ref.length != cand.length) {
      throw new IllegalArgumentException("reference has " + ref.length + " elements, candidate " + cand.length);
    }
    double diff2 = 0;
    double ref2 = 0;
    double maxAbs = 0;
    long mismatches = 0;
    long nan = 0;
    for (int i = 0; i < ref.length; i++) {
      float r = ref[i];
      float c = cand[i];
      if (Float.isNaN(c)) {
        nan++;
      }
      boolean rf = Float.isFinite(r);
      boolean cf = Float.isFinite(c);
      if (rf && !cf) {
        mismatches++;
        continue;
      }
      if (!rf || !cf) {
        continue; // both non-finite: nothing to measure
      }
      double d = (double) c - r;
      diff2 += d * d;
      ref2 += (double) r * r;
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
    double norm;
    if (mismatches > 0) {
      norm = Double.POSITIVE_INFINITY;
    } else if (ref2 == 0) {
      norm = diff2 == 0 ? 0 : Double.POSITIVE_INFINITY;
    } else {
      norm = Math.sqrt(diff2) / Math.sqrt(ref2);
    }
    boolean allNaN = ref.length > 0 && nan == ref.length;
    return new TensorError(norm, maxAbs, mismatches, allNaN, criterion.passes(norm, maxAbs, mismatches));
  }
}
