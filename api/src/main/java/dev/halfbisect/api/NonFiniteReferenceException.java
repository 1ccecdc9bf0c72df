package dev.halfbisect.api;

/**
 * The FP32 reference itself is NaN or infinite at a graph output on the inputs given (e.g. NaN
 * inputs, or inputs outside the model's domain): no FP16 verdict can be drawn from it, so the
 * operation stops instead of reporting a pass. A model/backend problem (command-line exit 3).
 */
public final class NonFiniteReferenceException extends HalfBisectException {
  private static final long serialVersionUID = 1L;

  private final String tensor;
  private final long nonFinite;
  private final long total;

  NonFiniteReferenceException(String tensor, long nonFinite, long total) {
    super(
        Kind.BACKEND,
        "the FP32 reference is not finite at "
            + tensor
            + " ("
            + nonFinite
            + " of "
            + total
            + " values) on these inputs");
    this.tensor = tensor;
    this.nonFinite = nonFinite;
    this.total = total;
  }

  /** The graph output whose reference is not finite. */
  public String tensor() {
    return tensor;
  }

  /** How many of its values (over all samples) are NaN or infinite. */
  public long nonFinite() {
    return nonFinite;
  }

  /** How many values it has over all samples. */
  public long total() {
    return total;
  }
}
