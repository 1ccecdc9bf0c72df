package dev.halfbisect.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.builder.OrtTestRunner;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.io.IOException;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * FP16 conversion and emulation of the real all-MiniLM-L6-v2 (BERT, opset 11, decomposed LayerNorm,
 * additive attention mask built from -3.4028235e38), run in ONNX Runtime. Loaded once.
 */
class Fp16MiniLmTest {
  private static final int SEQ = 16;
  private static OnnxModel model;
  private static Map<String, Tensor> inputs;
  private static Map<String, float[]> reference;

  @BeforeAll
  static void load() throws IOException {
    model = OnnxModel.parse(MiniLmModel.bytes(), null, "all-minilm-l6-v2");
    long[] ids = new long[SEQ];
    long[] mask = new long[SEQ];
    Random r = new Random(7);
    for (int i = 0; i < SEQ; i++) {
      ids[i] = i == 0 ? 101 : i == SEQ - 4 ? 102 : 1000 + r.nextInt(20000);
      mask[i] = i < SEQ - 3 ? 1 : 0; // padding so the -3.4e38 mask matters
    }
    long[] shape = {1, SEQ};
    inputs =
        Map.of(
            "input_ids",
            Tensor.ofLongs(shape, ids),
            "attention_mask",
            Tensor.ofLongs(shape, mask),
            "token_type_ids",
            Tensor.ofLongs(shape, new long[SEQ]));
    reference = OrtTestRunner.run(model.proto(), inputs);
  }

  @Test
  void emulatedMiniLmStaysFiniteWithSmallError() {
    Onnx.ModelProto emu = Fp16Emulation.apply(model, PrecisionPlan.allFp16()).proto();
    Map<String, float[]> got = OrtTestRunner.run(emu, inputs);
    assertThat(got.keySet()).isEqualTo(reference.keySet());
    for (String out : reference.keySet()) {
      // without the range clamp the mask constant is -inf and 0 * -inf makes every output NaN
      assertThat(Fp16TestModels.allFinite(got.get(out))).as(out).isTrue();
      assertThat(Fp16TestModels.normalizedError(reference.get(out), got.get(out)))
          .as(out)
          .isGreaterThan(1e-5)
          .isLessThan(1e-2);
    }
  }

  @Test
  void convertedMiniLmLoadsRunsAndMatches() {
    Fp16Conversion.Result r = Fp16Conversion.apply(model, PrecisionPlan.allFp16());
    assertThat(r.keptFp32NoFp16Form()).isEmpty();
    assertThat(r.model().name()).isEqualTo("all-minilm-l6-v2");
    long fp16Weights =
        r.proto().getGraph().getInitializerList().stream()
            .filter(t -> t.getDataType() == 10)
            .count();
    assertThat(fp16Weights).isGreaterThan(50);
    Map<String, float[]> got = OrtTestRunner.run(r.proto(), inputs);
    for (String out : reference.keySet()) {
      assertThat(Fp16TestModels.allFinite(got.get(out))).as(out).isTrue();
      assertThat(Fp16TestModels.normalizedError(reference.get(out), got.get(out)))
          .as(out)
          .isLessThan(1e-2);
    }
  }
}
