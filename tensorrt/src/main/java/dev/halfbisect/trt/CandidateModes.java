package dev.halfbisect.trt;

import java.util.Optional;

/**
 * What a requested {@code trt} mode runs as on the loaded TensorRT (issue 19): on TensorRT 11 and
 * later, which have no weak typing, {@code fp16} runs as {@code fp16-strong} (Casts placed in the
 * ONNX by the plan, built strongly typed) with a one-line note; every other mode runs as asked.
 */
final class CandidateModes {
  /** The mode to build and the note saying why it differs from the one asked for (or null). */
  record Mapped(String mode, String note) {}

  private CandidateModes() {}

  static Mapped map(String requested, Optional<TrtVersion> version) {
    if (requested.equals("fp16") && version.isPresent() && !version.get().hasWeakTyping()) {
      return new Mapped(
          "fp16-strong",
          "TensorRT "
              + version.get()
              + " has no weak typing: trt:fp16 runs as trt:fp16-strong (the plan's Casts placed in "
              + "the ONNX, built strongly typed)");
    }
    return new Mapped(requested, null);
  }
}
