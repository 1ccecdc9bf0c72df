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
    super(report, result);
    this.result = result;
  }

  /** Node names of the reduced model, topological order (empty when nothing fails). */
  public List<String> nodes() {
    return result.nodes();
  }

  /** Inputs of the reduced model (fed golden values), in the order the model lists them. */
  public List<String> inputs() {
    return result.inputs();
  }

  /** The tensor the reduced model computes (empty string when nothing fails). */
  public String output() {
    return result.output();
  }

  /** The reduced model file ({@code reduced.onnx} in the output folder). */
  public Optional<Path> model() {
    return result.model();
  }

  /** {@code inputs.npz}: the reduced model's inputs, members named as the tensors. */
  public Optional<Path> inputsNpz() {
    return result.inputsNpz();
  }

  /** {@code reference.npz}: the golden value of {@link #output()}. */
  public Optional<Path> referenceNpz() {
    return result.referenceNpz();
  }
}
