package dev.halfbisect.core.backend;

import dev.halfbisect.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * A built model in one backend and mode. Holds native resources: close it (try-with-resources). Not
 * required to be thread-safe.
 */
public interface BackendSession extends AutoCloseable {
  /** The graph inputs the session expects (name, dtype, shape with -1 for dynamic dims). */
  List<TensorInfo> inputs();

  /** Names returned by {@link #run}: graph outputs first, then observed tensors, in order. */
  List<String> outputNames();

  /**
   * Runs one sample.
   *
   * @throws IllegalArgumentException when inputs are missing, extra, or of the wrong dtype/shape
   *     (the message names expected vs given)
   * @throws BackendException when the backend fails while running
   */
  RunResult run(Map<String, Tensor> inputs) throws BackendException;

  /**
   * Times inference on {@code inputs} (issue 20): {@code request.warmup()} untimed runs, then
   * {@code request.runs()} timed ones. This default measures host wall time around {@link #run}
   * ({@link Timing.Clock#HOST_WALL}); backends that can measure the device itself override it (the
   * {@code trt} backend uses CUDA events, the {@code ort} backend labels its numbers as CPU
   * emulation time).
   *
   * @throws IllegalArgumentException as {@link #run}
   * @throws BackendException as {@link #run}
   */
  default Timing time(Map<String, Tensor> inputs, TimingRequest request) throws BackendException {
    return Timing.byWallClock(Timing.Clock.HOST_WALL, request, () -> run(inputs));
  }

  /** How the build went: time, output count, warnings. */
  BuildStats buildStats();

  @Override
  void close();
}
