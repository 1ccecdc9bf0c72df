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
  public List<TensorResult> tensors() {
    return TensorResult.of(result.tensors());
  }

  /**
   * The first failing computed tensor in topological order, if any (constants FP16 cannot represent
   * are reported, not failed).
   */
  public Optional<TensorResult> firstFailing() {
    return result.firstFailing().map(TensorResult::of);
  }
}
