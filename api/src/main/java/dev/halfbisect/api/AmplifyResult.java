package dev.halfbisect.api;

import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.report.model.AnalysisReport;
import java.util.List;

/** Local (born in the node) vs accumulated error and the amplification of every FP16 node. */
public final class AmplifyResult extends AnalysisResult {
  private final Amplification.Result result;

  AmplifyResult(AnalysisReport report, Amplification.Result result) {
    super(report);
    this.result = result;
  }

  public Amplification.Result result() {
    return result;
  }

  /** Nodes with their local error, input error, output error and amplification. */
  public List<Amplification.NodeAmplification> nodes() {
    return result.nodes();
  }
}
