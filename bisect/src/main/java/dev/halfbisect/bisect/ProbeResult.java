package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableMap;
import java.time.Duration;
import java.util.Optional;

/**
 * What a candidate probe showed: per observed tensor its {@link TensorComparison}, or why there are
 * none. For searches, a probe passes only when it ran and every observed tensor passed on every
 * sample; a build failure, a crash or an all-NaN result counts as a failure (the search goes on).
 *
 * @param spec the probe
 * @param status how it went
 * @param message the backend's message when it did not run
 * @param tensors comparisons, in observed order (empty unless it ran)
 * @param buildTime build wall time (as journaled, for a resumed probe)
 * @param runTime total run time over all samples
 * @param fromJournal whether this result was read from the journal instead of built
 */
public record ProbeResult(
    ProbeSpec spec,
    Status status,
    String message,
    ImmutableMap<String, TensorComparison> tensors,
    Duration buildTime,
    Duration runTime,
    boolean fromJournal) {

  /** How a probe went. */
  public enum Status {
    /** Built and ran. */
    OK,
    /** The backend refused to build or run it (BackendException). */
    BUILD_FAILED,
    /** The backend process crashed or timed out (BackendCrashException). */
    CRASH,
    /** Ran but every observed candidate value was NaN on every sample. */
    ALL_NAN
  }

  public ProbeResult {
    tensors = ImmutableMap.copyOf(tensors);
    message = message == null ? "" : message;
  }

  /** A probe that ran: its comparisons with the outcome's build and run times. */
  static ProbeResult ran(
      ProbeSpec spec,
      Status status,
      ImmutableMap<String, TensorComparison> tensors,
      ProbeRunner.Outcome outcome) {
    return new ProbeResult(
        spec, status, "", tensors, outcome.buildTime(), outcome.runTime(), false);
  }

  /**
   * A probe that did not run ({@code BUILD_FAILED} or {@code CRASH}), with the backend's message.
   */
  static ProbeResult failed(ProbeSpec spec, Status status, String message) {
    return new ProbeResult(
        spec, status, message, ImmutableMap.of(), Duration.ZERO, Duration.ZERO, false);
  }

  /** Ran, and every observed tensor passed on every sample. */
  public boolean passes() {
    return status == Status.OK && tensors.values().stream().allMatch(TensorComparison::pass);
  }

  public Optional<TensorComparison> tensor(String name) {
    return Optional.ofNullable(tensors.get(name));
  }
}
