package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.collect.ImmutableList;
import java.util.List;
import javax.annotation.CheckForNull;

/**
 * Per-sample pass rates of the graph outputs (issue 15): a plan or a verdict is worth only what
 * holds over the whole sample set, so reports say on how many samples every output passed and which
 * sample was worst.
 *
 * @param count samples compared
 * @param passed samples on which every output passed
 * @param worstSample index of the worst sample (failing before passing, then largest normalized
 *     error of any output)
 * @param worstTensor the output that was worst on it
 * @param outputs one row per float graph output, topological order
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"count", "passed", "worstSample", "worstTensor", "outputs"})
public record SampleSummary(
    int count,
    int passed,
    @CheckForNull Integer worstSample,
    @CheckForNull String worstTensor,
    List<OutputPassRate> outputs) {
  public SampleSummary {
    outputs = ImmutableList.copyOf(outputs);
  }

  /** {@code passed / count}. */
  public double passRate() {
    return count == 0 ? 1 : (double) passed / count;
  }
}
