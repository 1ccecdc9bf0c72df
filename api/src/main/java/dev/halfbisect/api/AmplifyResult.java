package dev.halfbisect.api;

import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.List;
import java.util.Optional;

/** Local (born in the node) vs accumulated error and the amplification of every FP16 node. */
public final class AmplifyResult extends AnalysisResult {
  private final List<NodeAmplification> nodes;

  AmplifyResult(AnalysisReport report, Amplification.Result result) {
    super(report, result);
    this.nodes = NodeAmplification.of(result.nodes());
  }

  /** Nodes with their local error, input error, output error and amplification, topological. */
  public List<NodeAmplification> nodes() {
    return nodes;
  }

  /** The entry of node {@code name}, if it was analysed. */
  public Optional<NodeAmplification> node(String name) {
    return nodes.stream().filter(n -> n.node().equals(name)).findFirst();
  }
}
