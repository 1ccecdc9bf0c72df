package dev.halfbisect.api;

import java.util.List;

/** Reference vs candidate on the graph outputs. */
public final class CompareResult extends AnalysisResult {
  private final List<TensorError> outputs;

  CompareResult(AnalysisReport report, List<TensorError> outputs) {
    super(report);
    this.outputs = List.copyOf(outputs);
  }

  /** One entry per graph output, in graph order. */
  public List<TensorError> outputs() {
    return outputs;
  }
}
