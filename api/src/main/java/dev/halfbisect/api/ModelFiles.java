package dev.halfbisect.api;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.OnnxModelException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Model files written next to a precision plan. */
final class ModelFiles {
  private ModelFiles() {}

  /**
   * Writes the model rewritten to FP16 under {@code plan} (onnx-surgery's Fp16Conversion: the input
   * of a strongly typed TensorRT build). Nodes without an FP16 form stay FP32 and are named in a
   * note; a rewrite failure becomes a note too, since the plan itself is still valid.
   */
  static Optional<Path> writeFp16Model(
      ModelGraph g, PrecisionPlan plan, Path file, List<String> notes) {
    try {
      Fp16Conversion.Result r = Fp16Conversion.apply(g.model(), plan);
      r.model().save(file);
      if (!r.keptFp32NoFp16Form().isEmpty()) {
        notes.add(
            "model-fp16.onnx keeps "
                + r.keptFp32NoFp16Form().size()
                + " node(s) in FP32 that have no FP16 form: "
                + String.join(", ", r.keptFp32NoFp16Form()));
      }
      return Optional.of(file);
    } catch (OnnxModelException | IllegalArgumentException e) {
      notes.add("model-fp16.onnx not written: " + e.getMessage());
      return Optional.empty();
    }
  }
}
