package dev.halfbisect.api;

import java.util.List;
import java.util.Optional;

/** Every floating-point node output compared in one run (all tensors observed), topological order. */
public final class LayerwiseResult extends AnalysisResult {
  private final List<TensorError> tensors;

  LayerwiseResult(AnalysisReport report, List<TensorError> tensors) {
    super(report);
    this.tensors = List.copyOf(tensors);
  }

  /** All compared tensors in topological order. */
  public List<TensorError> tensors() {
    return tensors;
  }

  /** The first tensor in topological order that fails, if any. */
  public Optional<TensorError> firstFailing() {
    return tensors.stream().filter(t -> !t.passed()).findFirst();
  }
}
