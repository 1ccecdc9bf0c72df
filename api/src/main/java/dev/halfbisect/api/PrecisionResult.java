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
    super(report, result);
    this.result = result;
    this.files = List.copyOf(files);
  }

  /** The plan (FP16 except {@link PrecisionPlan#fp32Nodes()}). */
  public PrecisionPlan plan() {
    return result.plan();
  }

  /** The nodes kept in FP32, sorted by name (as in the plan, its JSON and the report). */
  public List<String> fp32Nodes() {
    return result.plan().fp32Nodes().asList();
  }

  /** Whether no node of the set can go back to FP16 alone (false when the build cap stopped it). */
  public boolean oneMinimal() {
    return result.oneMinimal();
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
