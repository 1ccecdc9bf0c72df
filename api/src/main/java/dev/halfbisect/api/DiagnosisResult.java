package dev.halfbisect.api;

import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.report.model.AnalysisReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Everything at once: every tensor compared, amplification per node, and when the outputs fail the
 * precision plan that fixes them; the report carries the root causes.
 */
public final class DiagnosisResult extends AnalysisResult {
  private final List<TensorResult> tensors;
  private final Optional<TensorResult> firstFailing;
  private final List<NodeAmplification> amplification;
  private final Optional<PrecisionPlan> plan;
  private final List<Path> files;

  DiagnosisResult(
      AnalysisReport report,
      Layerwise.Result layerwise,
      Amplification.Result amplify,
      PrecisionSearch.Result precision,
      List<Path> files) {
    super(report, layerwise, amplify, precision);
    this.tensors = TensorResult.of(layerwise.tensors());
    this.firstFailing = layerwise.firstFailing().map(TensorResult::of);
    this.amplification = NodeAmplification.of(amplify.nodes());
    this.plan =
        precision == null || !precision.found() ? Optional.empty() : Optional.of(precision.plan());
    this.files = List.copyOf(files);
  }

  /** Every compared tensor, topological order (as {@link LayerwiseResult#tensors()}). */
  public List<TensorResult> tensors() {
    return tensors;
  }

  /** The first failing tensor in topological order, if any (as {@link LayerwiseResult}). */
  public Optional<TensorResult> firstFailing() {
    return firstFailing;
  }

  /** Local error and amplification per FP16 node, topological order. */
  public List<NodeAmplification> amplification() {
    return amplification;
  }

  /** The fix: present when the outputs failed and a passing plan was found. */
  public Optional<PrecisionPlan> plan() {
    return plan;
  }

  /** Plan files written under the output folder. */
  public List<Path> files() {
    return files;
  }
}
