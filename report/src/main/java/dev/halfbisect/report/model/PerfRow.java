package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.collect.ImmutableSortedMap;
import java.util.Map;
import javax.annotation.CheckForNull;

/**
 * One row of the {@code perf} table (issue 20): one precision at one batch size and one set of
 * input shapes.
 *
 * @param precision as requested: {@code fp32}, {@code tf32}, {@code fp16}, {@code bf16}, {@code
 *     plan:FILE}
 * @param mode the backend mode that ran it, e.g. {@code trt:fp16}
 * @param batch batch size (first dimension of every batched input)
 * @param shapes the shapes the row ran at, {@code name -> 8x3x224x224}, sorted by name: every
 *     input, those of a {@code --shape} set at its dims with dim 0 replaced by the batch
 * @param latencyMs median latency of one inference of the whole batch, milliseconds
 * @param p90Ms 90th percentile latency, milliseconds
 * @param throughput samples per second at the median latency ({@code batch * 1000 / latencyMs})
 * @param speedup FP32 median latency / this median latency at the same batch (1 for fp32)
 * @param maxAbs largest |c - r| over every float graph output against the FP32 reference
 * @param medianAbs median |c - r|
 * @param meanAbs mean |c - r|
 * @param maxRel largest relative error
 * @param medianRel median relative error
 * @param meanRel mean relative error
 * @param verdict {@code pass} or {@code fail} under the tolerance (every float output)
 * @param skipped why the row was not measured (the backend has no such mode); null when measured,
 *     and then every number above is set
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "precision",
  "mode",
  "batch",
  "shapes",
  "latencyMs",
  "p90Ms",
  "throughput",
  "speedup",
  "maxAbs",
  "medianAbs",
  "meanAbs",
  "maxRel",
  "medianRel",
  "meanRel",
  "verdict",
  "skipped"
})
public record PerfRow(
    String precision,
    @CheckForNull String mode,
    int batch,
    Map<String, String> shapes,
    @CheckForNull Double latencyMs,
    @CheckForNull Double p90Ms,
    @CheckForNull Double throughput,
    @CheckForNull Double speedup,
    @CheckForNull Double maxAbs,
    @CheckForNull Double medianAbs,
    @CheckForNull Double meanAbs,
    @CheckForNull Double maxRel,
    @CheckForNull Double medianRel,
    @CheckForNull Double meanRel,
    @CheckForNull String verdict,
    @CheckForNull String skipped) {
  public PerfRow {
    shapes = ImmutableSortedMap.copyOf(shapes);
    if (verdict != null) {
      Verdicts.check(verdict, "perf row verdict");
    }
  }

  /** A row the backend could not measure, with the reason. */
  public static PerfRow skipped(
      String precision, int batch, Map<String, String> shapes, String reason) {
    return new PerfRow(
        precision, null, batch, shapes, null, null, null, null, null, null, null, null, null, null,
        null, reason);
  }

  /** This row with its speed-up against an FP32 median latency. */
  public PerfRow withSpeedup(double fp32LatencyMs) {
    return new PerfRow(
        precision,
        mode,
        batch,
        shapes,
        latencyMs,
        p90Ms,
        throughput,
        latencyMs == null ? null : fp32LatencyMs / latencyMs,
        maxAbs,
        medianAbs,
        meanAbs,
        maxRel,
        medianRel,
        meanRel,
        verdict,
        skipped);
  }

  public boolean measured() {
    return skipped == null;
  }
}
