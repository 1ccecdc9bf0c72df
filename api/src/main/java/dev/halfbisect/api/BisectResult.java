package dev.halfbisect.api;

import java.util.Optional;

/**
 * The first divergent tensor found by bisection: each probe observes one tensor only, so the
 * candidate is built nearly as deployed (TensorRT fuses as usual).
 */
public final class BisectResult extends AnalysisResult {
  private final TensorError firstFailing;

  BisectResult(AnalysisReport report, TensorError firstFailing) {
    super(report);
    this.firstFailing = firstFailing;
  }

  /** The first failing tensor in topological order, empty when the graph outputs pass. */
  public Optional<TensorError> firstFailing() {
    return Optional.ofNullable(firstFailing);
  }
}
