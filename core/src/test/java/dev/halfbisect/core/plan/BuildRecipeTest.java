package dev.halfbisect.core.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.LowPrecision;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 19: the deliverable a candidate mode asks for. */
class BuildRecipeTest {
  private final PrecisionPlan plan = PrecisionPlan.fp16Except(List.of("ln/Pow", "ln/Sqrt"));

  @Test
  void weakFp16KeepsLayerPrecisions() {
    BuildRecipe r = BuildRecipe.forCandidateMode(plan, "fp16");
    assertThat(r.stronglyTyped()).isFalse();
    assertThat(r.trtexecFlags()).isEqualTo(plan.toTrtexecFlags()).contains("--layerPrecisions=");
    assertThat(r.trtexecCommand("m.onnx")).startsWith("trtexec --onnx=m.onnx --fp16 ");
    assertThat(BuildRecipe.forCandidateMode(plan, "fp16-emulated").stronglyTyped()).isFalse();
  }

  @Test
  void strongAndBf16UseTheCastPlacedModel() {
    BuildRecipe strong = BuildRecipe.forCandidateMode(plan, "fp16-strong");
    assertThat(strong.trtexecFlags()).isEqualTo("--onnx=model-fp16.onnx --stronglyTyped --noTF32");
    assertThat(strong.trtexecCommand("m.onnx"))
        .isEqualTo("trtexec --onnx=model-fp16.onnx --stronglyTyped --noTF32");
    BuildRecipe bf16 = BuildRecipe.forCandidateLabel(plan, "ort:bf16-emulated");
    assertThat(bf16.low()).isEqualTo(LowPrecision.BF16);
    assertThat(bf16.stronglyTyped()).isTrue();
    assertThat(bf16.convertedModelFile()).isEqualTo("model-bf16.onnx");
    assertThat(bf16.trtexecFlags()).isEqualTo("--onnx=model-bf16.onnx --stronglyTyped --noTF32");
    assertThat(BuildRecipe.forCandidateLabel(plan, "trt:fp16-strong").stronglyTyped()).isTrue();
    // an all-FP32 plan is the reference build either way
    assertThat(BuildRecipe.forCandidateMode(PrecisionPlan.allFp32(), "fp16-strong").trtexecFlags())
        .isEqualTo("--noTF32");
  }
}
