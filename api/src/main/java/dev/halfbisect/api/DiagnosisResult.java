package dev.halfbisect.api;

import dev.halfbisect.report.AnalysisReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Everything at once: graph outputs, every tensor compared, amplification per node, and when the
 * outputs fail the precision plan that fixes them; the report carries the root causes. Each part
 * is also available as the result its own operation returns.
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

  /** The fix, present when the outputs failed (absent from {@link HalfBisect#explain()}). */
  public Optional<PrecisionResult> precision() {
    return Optional.ofNullable(precision);
  }

  /** The first failing tensor, if any. */
  public Optional<TensorError> firstFailing() {
    return layerwise.firstFailing();
  }

  /** Plan files written under the output folder. */
  public List<Path> files() {
    return precision == null ? List.of() : precision.files();
  }
}
