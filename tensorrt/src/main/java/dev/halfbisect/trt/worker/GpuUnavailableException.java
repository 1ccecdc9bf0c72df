package dev.halfbisect.trt.worker;

/** CUDA loaded but no usable GPU was found (no device, driver too old). */
final class GpuUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  GpuUnavailableException(String message) {
    super(message);
  }
}
