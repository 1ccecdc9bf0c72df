package dev.halfbisect.api;

import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.List;

/** Reference vs candidate on the graph outputs (one candidate build observing nothing else). */
public final class CompareResult extends AnalysisResult {
  private final List<TensorResult> outputs;
  private final DiagnosisResult explanation;

  CompareResult(AnalysisReport report, Layerwise.Result result, DiagnosisResult explanation) {
    super(report, result);
    this.outputs = TensorResult.of(result.tensors());
    this.explanation = explanation;
  }

  /**
   * Where and why the outputs failed (layerwise and amplify, no precision search), present only
   * from {@link HalfBisect#compareAndExplain()} when they failed.
   */
  public java.util.Optional<DiagnosisResult> explanation() {
    return java.util.Optional.ofNullable(explanation);
  }

  /** One entry per floating-point graph output, topological order. */
  public List<TensorResult> outputs() {
    return outputs;
  }
}
