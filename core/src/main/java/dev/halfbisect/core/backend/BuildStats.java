package dev.halfbisect.core.backend;

import com.google.common.collect.ImmutableList;
import java.time.Duration;

/**
 * Statistics of one session build.
 *
 * @param buildTime wall time of the build (zero when the session came from a cache)
 * @param outputCount number of tensors the session returns
 * @param cached whether an earlier identical build was reused
 * @param warnings backend messages worth showing (e.g. a precision constraint TensorRT ignored)
 */
public record BuildStats(
    Duration buildTime, int outputCount, boolean cached, ImmutableList<String> warnings) {
  public BuildStats {
    warnings = ImmutableList.copyOf(warnings);
  }
}
