package dev.halfbisect.api;

import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.Optional;

/**
 * The first divergent node found by bisection (at most ceil(log2 N) + 1 candidate builds, each
 * observing few tensors, so the candidate is built nearly as deployed).
 */
public final class BisectResult extends AnalysisResult {
  private final FirstDivergence.Result result;

  BisectResult(AnalysisReport report, FirstDivergence.Result result) {
    super(report);
    this.result = result;
  }

  public FirstDivergence.Result result() {
    return result;
  }

  /** Where the FP16 result first diverges; empty when the graph outputs pass. */
  public Optional<FirstDivergence.Divergence> divergence() {
    return result.divergence();
  }
}
