package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Locale;
import javax.annotation.CheckForNull;

/**
 * What the plan costs (issue 20), written by {@code precision} and {@code diagnose}: median latency
 * of the all-FP32 engine, the all-FP16 engine and the plan's engine on the candidate backend, and
 * the share of the FP16 speed-up the plan keeps. When several passing plans were timed (the
 * overflow-pinned one and the outputs-only one) each is listed and the faster one is preferred.
 * Latencies are measurements: determinism checks drop this section as they drop {@code timings}.
 *
 * @param clock what a latency is (e.g. "GPU time per inference (CUDA events)")
 * @param fp16Speed whether the clock measures real FP16 speed (false on ONNX Runtime)
 * @param batch batch size of the timed inputs (the first sample's)
 * @param fp32Ms median latency of the all-FP32 engine, ms
 * @param fp16Ms median latency of the all-FP16 engine, ms
 * @param planMs median latency of the preferred plan's engine, ms
 * @param keptShare (fp32Ms - planMs) / (fp32Ms - fp16Ms); null when FP16 is not faster than FP32 or
 *     the clock measures no FP16 speed (CPU emulation)
 * @param plans every passing plan timed, the preferred one marked
 * @param note why the preferred plan was chosen, or why speed did not choose it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "clock",
  "fp16Speed",
  "batch",
  "fp32Ms",
  "fp16Ms",
  "planMs",
  "keptShare",
  "plans",
  "note"
})
public record PriceSection(
    String clock,
    boolean fp16Speed,
    int batch,
    double fp32Ms,
    double fp16Ms,
    double planMs,
    @CheckForNull Double keptShare,
    List<PlanPrice> plans,
    @CheckForNull String note) {

  /**
   * One timed plan.
   *
   * @param name {@code overflow-pinned}, {@code outputs-only} or {@code plan}
   * @param fp32Nodes nodes it keeps in FP32
   * @param latencyMs median latency, ms
   * @param preferred whether this is the plan the report recommends
   */
  @JsonPropertyOrder({"name", "fp32Nodes", "latencyMs", "preferred"})
  public record PlanPrice(String name, int fp32Nodes, double latencyMs, boolean preferred) {}

  public PriceSection {
    plans = ImmutableList.copyOf(plans);
  }

  /** The share kept: (fp32 - plan) / (fp32 - fp16), or null when FP16 gains nothing. */
  public static Double keptShare(double fp32Ms, double fp16Ms, double planMs) {
    double gain = fp32Ms - fp16Ms;
    return gain > 0 ? (fp32Ms - planMs) / gain : null;
  }

  /** "plan keeps 93% of the FP16 speed-up" (or why no share can be given). */
  @JsonIgnore
  public String sentence() {
    if (!fp16Speed) {
      return "CPU times of an emulation: the FP16 speed-up the plan keeps needs a GPU backend";
    }
    if (keptShare == null) {
      return "FP16 is not faster than FP32 here, so the plan costs no FP16 speed-up";
    }
    return String.format(
        Locale.ROOT, "plan keeps %.0f%% of the FP16 speed-up", 100 * Math.max(0, keptShare));
  }
}
