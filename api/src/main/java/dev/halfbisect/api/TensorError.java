package dev.halfbisect.api;

import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.TensorComparison;
import java.util.Locale;

/**
 * How far one candidate tensor is from its reference (worst over all samples), and its verdict: a
 * flat view of the bisect module's {@link TensorComparison}.
 *
 * @param tensor ONNX tensor name
 * @param node name of the ONNX node producing it
 * @param opType that node's op type
 * @param stats the error statistics (worst sample)
 * @param failure null when the tensor passes, else why it fails
 */
public record TensorError(String tensor, String node, String opType, Stats stats, String failure) {

  /**
   * Error statistics of one tensor.
   *
   * @param normalizedError ||c - r||_2 / ||r||_2 (+inf when the candidate is non-finite where the reference is finite)
   * @param maxAbs largest |c - r| where both are finite
   * @param meanAbs mean |c - r|
   * @param refMaxAbs largest finite |r|: above 65504 the tensor cannot be stored in FP16
   * @param newNonFinite elements non-finite in the candidate but finite in the reference
   */
  public record Stats(double normalizedError, double maxAbs, double meanAbs, double refMaxAbs, long newNonFinite) {}

  /** The view of one layerwise row. */
  public static TensorError of(Layerwise.TensorReport r) {
    return of(r.tensor(), r.node(), r.opType(), r.error());
  }

  /** The view of a comparison of {@code tensor} produced by {@code node}. */
  public static TensorError of(String tensor, String node, String opType, TensorComparison c) {
    var worst = c.worst();
    double refMax = 0;
    long nonFinite = 0;
    for (var e : c.perSample()) {
      refMax = Math.max(refMax, e.stats().refMaxAbs());
      nonFinite += e.nonFiniteMismatches();
    }
    Stats s = new Stats(c.normalizedError(), c.maxAbs(), worst.stats().meanAbs(), refMax, nonFinite);
    return new TensorError(tensor, node, opType, s, c.pass() ? null : worst.verdict().reason());
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
