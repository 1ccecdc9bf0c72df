package dev.halfbisect.api;

/**
 * Receives progress of long operations (one step = one probe: a backend build plus its runs). The
 * CLI draws a progress bar from it; implementations must be cheap and must not throw.
 */
public interface ProgressListener {
  /** A listener that ignores everything. */
  ProgressListener NONE =
      new ProgressListener() {
        @Override
        public void phase(String name, int totalSteps) {}

        @Override
        public void step(int done, String message) {}
      };

  /** A new phase begins ({@code totalSteps} may be -1 when unknown). */
  void phase(String name, int totalSteps);

  /** {@code done} steps of the current phase are finished; {@code message} says what ran last. */
  void step(int done, String message);

  /**
   * A build (and its runs) starts: {@code what} names the side and the backend, e.g. {@code
   * "candidate: TensorRT FP16 build"} or {@code "reference: ONNX Runtime FP32 build"}. Steps count
   * candidate builds only: a finished reference build is reported by {@link #step} with an
   * unchanged count.
   */
  default void running(String what) {}

  /** All work is done. */
  default void finished() {}
}
