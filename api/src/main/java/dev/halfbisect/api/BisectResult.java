package dev.halfbisect.api;

import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.Optional;

/**
 * The first divergent node found by bisection (at most ceil(log2 N) + 1 candidate builds, each
 * observing few tensors, so the candidate is built nearly as deployed).
 */
public final class BisectResult extends AnalysisResult {
  private final Optional<Divergence> divergence;
  private final int buildBound;

  BisectResult(AnalysisReport report, FirstDivergence.Result result) {
    super(report, result);
    this.divergence = result.divergence().map(Divergence::of);
    this.buildBound = result.buildBound();
  }

  /** Where the FP16 result first diverges; empty when the graph outputs pass. */
  public Optional<Divergence> divergence() {
    return divergence;
  }

  /** The most candidate builds the search could have made (ceil(log2 N) + 1). */
  public int buildBound() {
    return buildBound;
  }
}
