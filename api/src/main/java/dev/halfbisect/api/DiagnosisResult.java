package dev.halfbisect.api;

import java.util.Optional;

/**
 * Everything at once: outputs compared, every tensor compared, amplification per node, and when the
 * outputs fail, the precision plan that fixes them.
 */
public final class DiagnosisResult extends AnalysisResult {
  private final CompareResult compare;
  private final LayerwiseResult layerwise;
  private final AmplifyResult amplify;
  private final PrecisionResult precision;

  DiagnosisResult(AnalysisReport report, CompareResult compare, LayerwiseResult layerwise, AmplifyResult amplify,
      PrecisionResult precision) {
    super(report);
    this.compare = compare;
    this.layerwise = layerwise;
    this.amplify = amplify;
    this.precision = precision;
  }

  public CompareResult compare() {
    return compare;
  }

  public LayerwiseResult layerwise() {
    return layerwise;
  }

  public AmplifyResult amplify() {
    return amplify;
  }

  /** The fix, present when the outputs failed. */
  public Optional<PrecisionResult> precision() {
    return Optional.ofNullable(precision);
  }

  /** The first failing tensor, if any. */
  public Optional<TensorError> firstFailing() {
    return layerwise.firstFailing();
  }
}
