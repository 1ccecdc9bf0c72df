package dev.halfbisect.api;

import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.List;
import java.util.Optional;

/** Every floating-point tensor compared (all observed), topological order. */
public final class LayerwiseResult extends AnalysisResult {
  private final List<TensorResult> tensors;
  private final Optional<TensorResult> firstFailing;

  LayerwiseResult(AnalysisReport report, Layerwise.Result result) {
    super(report, result);
    this.tensors = TensorResult.of(result.tensors());
    this.firstFailing = result.firstFailing().map(TensorResult::of);
  }

  /** All compared tensors in topological order. */
  public List<TensorResult> tensors() {
    return tensors;
  }

  /**
   * The first failing computed tensor in topological order, if any (constants FP16 cannot represent
   * are reported, not failed).
   */
  public Optional<TensorResult> firstFailing() {
    return firstFailing;
  }
}
