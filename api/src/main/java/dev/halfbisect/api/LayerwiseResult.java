package dev.halfbisect.api;

import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.List;
import java.util.Optional;

/** Every floating-point tensor compared (all observed), topological order. */
public final class LayerwiseResult extends AnalysisResult {
  private final Layerwise.Result result;

  LayerwiseResult(AnalysisReport report, Layerwise.Result result) {
    super(report);
    this.result = result;
  }

  /** The bisect module's result. */
  public Layerwise.Result result() {
    return result;
  }

  /** All compared tensors in topological order. */
  public List<Layerwise.TensorReport> tensors() {
    return result.tensors();
  }

  /** The first failing tensor in topological order, if any. */
  public Optional<Layerwise.TensorReport> firstFailing() {
    return result.firstFailing();
  }
}
