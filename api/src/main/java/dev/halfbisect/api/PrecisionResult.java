package dev.halfbisect.api;

import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.report.model.AnalysisReport;
import java.nio.file.Path;
import java.util.List;

/**
 * The precision plan found: a small set of nodes kept in FP32 so that the graph outputs pass.
 * {@link #passed()} says whether such a plan was found.
 */
public final class PrecisionResult extends AnalysisResult {
  private final PrecisionSearch.Result result;
  private final List<Path> files;

  PrecisionResult(AnalysisReport report, PrecisionSearch.Result result, List<Path> files) {
    super(report);
    this.result = result;
    this.files = List.copyOf(files);
  }

  public PrecisionSearch.Result result() {
    return result;
  }

  /** The plan (FP16 except {@link PrecisionPlan#fp32Nodes()}). */
  public PrecisionPlan plan() {
    return result.plan();
  }

  /** Fraction of the floating-point nodes left in FP16. */
  public double fp16Fraction() {
    return result.fp16Fraction();
  }

  /**
   * Files written under the output folder (plan.json, trtexec-flags.txt, model-fp16.onnx); empty
   * without one.
   */
  public List<Path> files() {
    return files;
  }
}
