package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Builds and runs one probe. The engine asks a runner only for values; comparing, journaling and
 * counting happen above it, so a runner is small: {@link SpiProbeRunner} does graph surgery and
 * drives the backend SPI.
 */
public interface ProbeRunner {

  /**
   * Observed values per sample (keys: original ONNX tensor names), with build and run times and
   * what the backend said about the build (e.g. TensorRT's warnings and its check of the pinned
   * nodes).
   */
  record Outcome(
      ImmutableList<ImmutableMap<String, Tensor>> samples,
      Duration buildTime,
      Duration runTime,
      ImmutableList<String> buildNotes) {
    public Outcome {
      samples = ImmutableList.copyOf(samples);
      buildNotes = ImmutableList.copyOf(buildNotes);
    }

    /** No build notes. */
    public Outcome(
        ImmutableList<ImmutableMap<String, Tensor>> samples, Duration buildTime, Duration runTime) {
      this(samples, buildTime, runTime, ImmutableList.of());
    }
  }

  /**
   * Builds {@code spec} and runs it once per sample.
   *
   * @param feeds per sample: the graph inputs, plus the golden values of the spec's cut inputs
   * @throws BackendException when the build or a run fails ({@code BackendCrashException} for a
   *     crash)
   */
  Outcome run(ProbeSpec spec, List<Map<String, Tensor>> feeds) throws BackendException;
}
