package dev.halfbisect.api;

import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.List;

/** Reference vs candidate on the graph outputs (one candidate build observing nothing else). */
public final class CompareResult extends AnalysisResult {
  private final Layerwise.Result result;

  CompareResult(AnalysisReport report, Layerwise.Result result) {
    super(report);
    this.result = result;
  }

  /** One entry per floating-point graph output. */
  public List<Layerwise.TensorReport> outputs() {
    return result.tensors();
  }
}
