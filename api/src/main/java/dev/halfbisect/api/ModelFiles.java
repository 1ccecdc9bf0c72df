package dev.halfbisect.api;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.BuildRecipe;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.OnnxModelException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Model files written next to a precision plan: the Cast-placed model (onnx-surgery's
 * Fp16Conversion, the input of a strongly typed TensorRT build); nodes without a low-precision form
 * stay FP32 and are named in a note, and a rewrite failure becomes a note too, since the plan
 * itself is still valid.
 */
final class ModelFiles {
  private ModelFiles() {}

  /**
   * The deliverable of {@code recipe} under {@code dir} (issue 19): the Cast-placed model in the
   * recipe's type ({@code model-fp16.onnx}, or {@code model-bf16.onnx} for BF16), and {@code
   * trtexec-flags.txt} rewritten with the recipe's flags ({@code --onnx=model-fp16.onnx
   * --stronglyTyped} for a strongly typed candidate). For FP16 weak typing the Cast-placed model is
   * still written, for users who move to strong typing. Returns the model file when written.
   */
  static List<Path> writeRecipe(ModelGraph g, BuildRecipe recipe, Path dir, List<String> notes)
      throws IOException {
    List<Path> files = new ArrayList<>();
    writeConverted(g, recipe.plan(), recipe.low(), dir.resolve(recipe.convertedModelFile()), notes)
        .ifPresent(files::add);
    dev.halfbisect.core.io.SafeFiles.writeString(
        dir.resolve("trtexec-flags.txt"), recipe.trtexecFlags() + "\n");
    return files;
  }

  private static Optional<Path> writeConverted(
      ModelGraph g, PrecisionPlan plan, LowPrecision low, Path file, List<String> notes) {
    String shown = file.getFileName().toString();
    try {
      Fp16Conversion.Result r = Fp16Conversion.apply(g.model(), plan, low);
      r.model().save(file);
      if (!r.keptFp32NoFp16Form().isEmpty()) {
        notes.add(
            shown
                + " keeps "
                + r.keptFp32NoFp16Form().size()
                + " node(s) in FP32 that have no "
                + low.name()
                + " form: "
                + String.join(", ", r.keptFp32NoFp16Form()));
      }
      return Optional.of(file);
    } catch (OnnxModelException | IllegalArgumentException e) {
      notes.add(shown + " not written: " + e.getMessage());
      return Optional.empty();
    }
  }
}
