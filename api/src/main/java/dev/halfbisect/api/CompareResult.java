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

  /** The bisect module's result (per-sample errors and statistics of each output). */
  public Layerwise.Result result() {
    return result;
  }

  /** One entry per floating-point graph output, topological order. */
  public List<TensorResult> outputs() {
    return TensorResult.of(result.tensors());
  }
}
