package dev.halfbisect.api;

import dev.halfbisect.core.plan.PrecisionPlan;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Model files written next to a precision plan. */
final class ModelFiles {
  private ModelFiles() {}

  /**
   * Writes the model rewritten to FP16 under {@code plan} when this build has the FP16 rewrite;
   * otherwise adds a note saying why the file is missing.
   */
  static Optional<Path> writeFp16Model(ModelGraph g, PrecisionPlan plan, Path file, List<String> notes) {
    notes.add("model-fp16.onnx not written: the FP16 rewrite (onnx-surgery Fp16Conversion) is not in this build");
    return Optional.empty();
  }
}
