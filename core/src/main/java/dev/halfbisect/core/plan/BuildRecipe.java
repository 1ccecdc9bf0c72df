package dev.halfbisect.core.plan;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.LowPrecision;
import java.util.Locale;

/**
 * How to build the engine a plan describes outside halfbisect (issue 19): weakly typed, the
 * original model with {@code trtexec --fp16 --noTF32 --precisionConstraints=obey
 * --layerPrecisions=...}; strongly typed (the only way on TensorRT 11), the Cast-placed model
 * ({@code model-fp16.onnx} or {@code model-bf16.onnx}) with {@code trtexec --onnx=model-fp16.onnx
 * --stronglyTyped --noTF32}. The candidate mode decides: a mode naming {@code strong} is strongly
 * typed, one naming {@code bf16} tests BF16 (BF16 has no weak-typing path here).
 */
public record BuildRecipe(PrecisionPlan plan, LowPrecision low, boolean stronglyTyped) {
  public BuildRecipe {
    Preconditions.checkNotNull(plan, "plan");
    Preconditions.checkNotNull(low, "low");
  }

  /** The recipe that builds what a candidate in {@code mode} ran under {@code plan}. */
  public static BuildRecipe forCandidateMode(PrecisionPlan plan, String mode) {
    LowPrecision low = LowPrecision.ofMode(mode);
    boolean strong =
        low == LowPrecision.BF16
            || (mode != null && mode.toLowerCase(Locale.ROOT).contains("strong"));
    return new BuildRecipe(plan, low, strong);
  }

  /**
   * The recipe for a candidate given as {@code BACKEND:MODE} (a report's label); a label without a
   * mode gives the weak FP16 recipe.
   */
  public static BuildRecipe forCandidateLabel(PrecisionPlan plan, String label) {
    int colon = label == null ? -1 : label.indexOf(':');
    return forCandidateMode(plan, colon < 0 ? "fp16" : label.substring(colon + 1));
  }

  /** File name of the Cast-placed model: {@code model-fp16.onnx} or {@code model-bf16.onnx}. */
  public String convertedModelFile() {
    return "model-" + low.id() + ".onnx";
  }

  /**
   * The trtexec arguments: strongly typed, {@code --onnx=model-fp16.onnx --stronglyTyped --noTF32}
   * (they name their own model, the converted one, next to the plan); weakly typed, the plan's
   * {@link PrecisionPlan#toTrtexecFlags()} for the original model.
   */
  public String trtexecFlags() {
    if (!stronglyTyped || plan.defaultPrecision() == PrecisionPlan.Precision.FP32) {
      return plan.toTrtexecFlags();
    }
    return "--onnx=" + convertedModelFile() + " --stronglyTyped --noTF32";
  }

  /** The whole trtexec command line for {@code originalModel}. */
  public String trtexecCommand(String originalModel) {
    String flags = trtexecFlags();
    return flags.startsWith("--onnx=")
        ? "trtexec " + flags
        : "trtexec --onnx=" + originalModel + " " + flags;
  }
}
