package dev.halfbisect.api;

import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.report.model.AnalysisReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Everything at once: every tensor compared, amplification per node, and when the outputs fail the
 * precision plan that fixes them; the report carries the root causes.
 */
public final class DiagnosisResult extends AnalysisResult {
  private final Layerwise.Result layerwise;
  private final Amplification.Result amplify;
  private final PrecisionSearch.Result precision;
  private final List<Path> files;

  DiagnosisResult(
      AnalysisReport report,
      Layerwise.Result layerwise,
      Amplification.Result amplify,
      PrecisionSearch.Result precision,
      List<Path> files) {
    super(report);
    this.layerwise = layerwise;
    this.amplify = amplify;
    this.precision = precision;
    this.files = List.copyOf(files);
  }

  public Layerwise.Result layerwise() {
    return layerwise;
  }

  public Amplification.Result amplify() {
    return amplify;
  }

  /** The fix, present when the outputs failed. */
  public Optional<PrecisionSearch.Result> precision() {
    return Optional.ofNullable(precision);
  }

  /** The first failing tensor in topological order, if any (as {@link LayerwiseResult}). */
  public Optional<TensorResult> firstFailing() {
    return layerwise.firstFailing().map(TensorResult::of);
  }

  /** Plan files written under the output folder. */
  public List<Path> files() {
    return files;
  }
}
