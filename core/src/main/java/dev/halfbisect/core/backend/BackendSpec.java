package dev.halfbisect.core.backend;

import com.google.common.base.Preconditions;

/** A backend and mode as written on the command line: {@code ort:fp32}, {@code trt:fp16}. */
public record BackendSpec(String backend, String mode) {
  public BackendSpec {
    Preconditions.checkArgument(
        backend != null && !backend.isBlank(), "backend name must be given");
    Preconditions.checkArgument(mode != null && !mode.isBlank(), "mode must be given");
  }

  /**
   * Parses {@code NAME:MODE}.
   *
   * @throws IllegalArgumentException saying the expected form
   */
  public static BackendSpec parse(String text) {
    int colon = text == null ? -1 : text.indexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(
          "backend '"
              + text
              + "' must be BACKEND:MODE, e.g. ort:fp32, ort:fp16-emulated, trt:fp16");
    }
    return new BackendSpec(text.substring(0, colon).trim(), text.substring(colon + 1).trim());
  }

  @Override
  public String toString() {
    return backend + ":" + mode;
  }
}
