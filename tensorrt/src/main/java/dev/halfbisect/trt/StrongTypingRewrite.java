package dev.halfbisect.trt;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.OnnxModelException;
import java.nio.file.Path;

/**
 * The FP16 rewrite for {@code fp16-strong}: onnx-surgery's {@link Fp16Conversion} turns the model
 * into an FP16 graph with Casts at the FP16/FP32 borders of the plan, which TensorRT then builds
 * strongly typed (each tensor computes in the type the graph gives it); for {@code bf16-strong} the
 * low-precision region is BFLOAT16.
 */
final class StrongTypingRewrite {
  /** The rewritten model and what the rewrite could not do, for BuildStats warnings. */
  record Rewritten(byte[] bytes, ImmutableList<String> warnings) {}

  private StrongTypingRewrite() {}

  static Rewritten apply(
      String modelName, byte[] bytes, Path baseDir, PrecisionPlan plan, LowPrecision low)
      throws BackendException {
    try {
      Fp16Conversion.Result r =
          Fp16Conversion.apply(OnnxModel.parse(bytes, baseDir, modelName), plan, low);
      ImmutableList<String> warnings =
          r.keptFp32NoFp16Form().isEmpty()
              ? ImmutableList.of()
              : ImmutableList.of(
                  low.id()
                      + "-strong: "
                      + r.keptFp32NoFp16Form().size()
                      + " node(s) stay FP32 because their op "
                      + "has no "
                      + low.name()
                      + " form: "
                      + r.keptFp32NoFp16Form());
      return new Rewritten(r.model().toBytes(), warnings);
    } catch (OnnxModelException e) {
      throw new BackendException(
          low.name()
              + " rewrite of "
              + modelName
              + " for trt:"
              + low.id()
              + "-strong failed: "
              + e.getMessage(),
          e);
    }
  }
}
