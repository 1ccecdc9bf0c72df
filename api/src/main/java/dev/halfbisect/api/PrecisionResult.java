package dev.halfbisect.api;

import dev.halfbisect.core.plan.PrecisionPlan;
import java.nio.file.Path;
import java.util.List;

/**
 * The precision plan found: the smallest set of nodes kept in FP32 (within the search budget) so
 * that the graph outputs pass. {@link #passed()} says whether the plan passes.
 */
public final class PrecisionResult extends AnalysisResult {
  private final PrecisionPlan plan;
  private final double fp16Fraction;
  private final List<Path> files;

  PrecisionResult(AnalysisReport report, PrecisionPlan plan, double fp16Fraction, List<Path> files) {
    super(report);
    this.plan = plan;
    this.fp16Fraction = fp16Fraction;
    this.files = List.copyOf(files);
  }

  /** The plan (FP16 except {@link PrecisionPlan#fp32Nodes()}). */
  public PrecisionPlan plan() {
    return plan;
  }

  /** Fraction of the floating-point nodes left in FP16. */
  public double fp16Fraction() {
    return fp16Fraction;
  }

  /** Files written under the output folder (plan.json, trtexec-flags.txt, ...); empty without one. */
  public List<Path> files() {
    return files;
  }
}
