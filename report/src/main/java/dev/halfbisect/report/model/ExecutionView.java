package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import javax.annotation.CheckForNull;

/**
 * How an analysis ran its probes (issue 18): probes built at once, rounds of candidate builds,
 * reference builds (0 when every reference value came from the reference cache), and, for a search
 * run on FP16 emulation first, the emulation's builds and where the search ran.
 *
 * @param parallelism candidate probes of one round built at once
 * @param rounds rounds of candidate builds (equal to the candidate builds when parallelism is 1)
 * @param referenceBuilds reference builds of this run
 * @param searchedOn {@code candidate} or {@code emulation} (emulation first, candidate confirms)
 * @param emulationBuilds builds of the FP16 emulation when the search ran there first
 * @param emulationParallelism emulation probes of one round run at once (emulation first only)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "parallelism",
  "rounds",
  "referenceBuilds",
  "searchedOn",
  "emulationBuilds",
  "emulationParallelism"
})
public record ExecutionView(
    int parallelism,
    int rounds,
    int referenceBuilds,
    @CheckForNull String searchedOn,
    @CheckForNull Integer emulationBuilds,
    @CheckForNull Integer emulationParallelism) {
  /** Not run on emulation first. */
  public ExecutionView(int parallelism, int rounds, int referenceBuilds) {
    this(parallelism, rounds, referenceBuilds, null, null, null);
  }

  public ExecutionView {
    Preconditions.checkArgument(parallelism >= 1, "execution.parallelism must be >= 1");
    Preconditions.checkArgument(rounds >= 0, "execution.rounds must be >= 0");
    Preconditions.checkArgument(referenceBuilds >= 0, "execution.referenceBuilds must be >= 0");
  }

  /** A copy saying the search ran on emulation first, with its builds and probes at once. */
  public ExecutionView withEmulation(int builds, int parallelism) {
    return new ExecutionView(
        this.parallelism, rounds, referenceBuilds, "emulation", builds, parallelism);
  }
}
