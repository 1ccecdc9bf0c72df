package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;
import javax.annotation.CheckForNull;

/**
 * The {@code perf} document (issue 20): latency, throughput and error per precision and batch size,
 * the table of the investigations halfbisect grew from. Top level as every {@code halfbisect/1}
 * document ({@code schema}, {@code command}, {@code model}, {@code backend}, {@code verdict},
 * {@code builds}); {@code clock} says what the latencies measure and {@code fp16Speed} whether they
 * say anything about FP16 speed (false on ONNX Runtime: CPU emulation time).
 *
 * @param backend {@code reference} = the FP32 reference of the errors, {@code candidate} = the
 *     backend that ran and timed every row
 * @param verdict {@code fail} when a measured row fails the tolerance
 * @param builds sessions built for the table (reference runs not counted)
 * @param clock what one latency is, e.g. "GPU time per inference (CUDA events)"
 * @param fp16Speed whether the clock measures real FP16 speed
 * @param warmup untimed runs before each timing
 * @param runs timed runs per row
 * @param rows one per shape set, batch and precision, in that nesting and the order asked
 * @param warnings notes (derived inputs, skipped precisions)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "schema",
  "command",
  "model",
  "backend",
  "verdict",
  "builds",
  "clock",
  "fp16Speed",
  "warmup",
  "runs",
  "rows",
  "warnings"
})
public record PerfReport(
    String schema,
    String command,
    String model,
    BackendPair backend,
    String verdict,
    int builds,
    String clock,
    boolean fp16Speed,
    int warmup,
    int runs,
    List<PerfRow> rows,
    @CheckForNull List<String> warnings) {
  public PerfReport {
    Preconditions.checkArgument(AnalysisReport.SCHEMA.equals(schema), "schema %s", schema);
    Verdicts.check(verdict, "perf verdict");
    rows = ImmutableList.copyOf(rows);
    warnings = warnings == null ? null : ImmutableList.copyOf(warnings);
  }

  /** Stable pretty JSON, as {@link AnalysisReport#toJson()}. */
  public String toJson() {
    return ReportJson.writeValue(this);
  }
}
