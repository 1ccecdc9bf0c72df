package dev.halfbisect.api;

import dev.halfbisect.bisect.Reduce;
import dev.halfbisect.report.model.AnalysisReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The smallest subgraph around the first divergence that still fails on its own. */
public final class ReduceResult extends AnalysisResult {
  private final Reduce.Result result;

  ReduceResult(AnalysisReport report, Reduce.Result result) {
    super(report);
    this.result = result;
  }

  public Reduce.Result result() {
    return result;
  }

  /** Node names of the reduced model (empty when nothing fails). */
  public List<String> nodes() {
    return result.nodes();
  }

  /** The reduced model file ({@code reduced.onnx} in the output folder). */
  public Optional<Path> model() {
    return result.model();
  }
}
