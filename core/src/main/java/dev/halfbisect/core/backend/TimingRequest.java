package dev.halfbisect.core.backend;

import com.google.common.base.Preconditions;

/**
 * How to time a session (issue 20): {@code warmup} untimed runs (engine autotuning, caches, lazy
 * allocations settle), then {@code runs} timed runs of the same inputs.
 */
public record TimingRequest(int warmup, int runs) {
  public TimingRequest {
    Preconditions.checkArgument(warmup >= 0, "warm-up runs must be >= 0, got %s", warmup);
    Preconditions.checkArgument(runs >= 1, "timed runs must be >= 1, got %s", runs);
  }

  /** 5 warm-up runs, 20 timed runs. */
  public static TimingRequest defaults() {
    return new TimingRequest(5, 20);
  }
}
