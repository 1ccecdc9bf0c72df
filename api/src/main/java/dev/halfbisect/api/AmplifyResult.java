package dev.halfbisect.api;

import java.util.List;

/** Local (born here) vs accumulated error and the amplification of every FP16 node. */
public final class AmplifyResult extends AnalysisResult {
  private final List<NodeAmplification> nodes;

  AmplifyResult(AnalysisReport report, List<NodeAmplification> nodes) {
    super(report);
    this.nodes = List.copyOf(nodes);
  }

  /** Nodes in topological order. */
  public List<NodeAmplification> nodes() {
    return nodes;
  }
}
