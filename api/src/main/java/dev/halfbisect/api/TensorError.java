package dev.halfbisect.api;

import java.util.Locale;

/**
 * How far one candidate tensor is from its reference (worst over all samples), and its verdict.
 *
 * @param tensor ONNX tensor name
 * @param node name of the ONNX node producing it ("" for a graph input)
 * @param opType that node's op type
 * @param stats the error statistics (worst sample)
 * @param failure null when the tensor passes, else why it fails
 */
public record TensorError(String tensor, String node, String opType, Stats stats, String failure) {

  /**
   * Error statistics of one tensor.
   *
   * @param normalizedError ||c - r||_2 / ||r||_2 over elements finite in the reference
   * @param maxAbs largest |c - r| where both are finite
   * @param meanAbs mean |c - r| where both are finite
   * @param refMaxAbs largest |r|: above 65504 the tensor cannot be stored in FP16
   * @param newNonFinite elements non-finite in the candidate but finite in the reference
   */
  public record Stats(double normalizedError, double maxAbs, double meanAbs, double refMaxAbs, long newNonFinite) {

    /** Computes the statistics of {@code cand} against {@code ref} (same length). */
    public static Stats of(float[] ref, float[] cand) {
      if (ref.length != cand.length) {
        throw new IllegalArgumentException("reference has " + ref.length + " elements, candidate " + cand.length);
      }
      double diff2 = 0;
      double ref2 = 0;
      double maxAbs = 0;
      double sumAbs = 0;
      double refMax = 0;
      long finite = 0;
      long bad = 0;
      for (int i = 0; i < ref.length; i++) {
        float r = ref[i];
        float c = cand[i];
        if (!Float.isFinite(r)) {
          continue;
        }
        refMax = Math.max(refMax, Math.abs(r));
        if (!Float.isFinite(c)) {
          bad++;
          continue;
        }
        double d = (double) c - r;
        diff2 += d * d;
        ref2 += (double) r * r;
        maxAbs = Math.max(maxAbs, Math.abs(d));
        sumAbs += Math.abs(d);
        finite++;
      }
      double norm = ref2 > 0 ? Math.sqrt(diff2 / ref2) : Math.sqrt(diff2);
      if (bad > 0) {
        norm = Double.POSITIVE_INFINITY;
      }
      return new Stats(norm, maxAbs, finite == 0 ? 0 : sumAbs / finite, refMax, bad);
    }

    /** The worse of two samples' statistics. */
    Stats worst(Stats o) {
      return new Stats(Math.max(normalizedError, o.normalizedError), Math.max(maxAbs, o.maxAbs),
          Math.max(meanAbs, o.meanAbs), Math.max(refMaxAbs, o.refMaxAbs), newNonFinite + o.newNonFinite);
    }
  }

  public boolean passed() {
    return failure == null;
  }

  /** One line: {@code name (Op node): normalized error 3.1e-03, max abs 1.2e-02, pass}. */
  public String describe() {
    return String.format(Locale.ROOT, "%s (%s %s): normalized error %s, max abs %.3g, %s", tensor, opType, node,
        Double.isInfinite(stats.normalizedError()) ? "inf" : String.format(Locale.ROOT, "%.3g", stats.normalizedError()),
        stats.maxAbs(), failure == null ? "pass" : "FAIL (" + failure + ")");
  }
}
