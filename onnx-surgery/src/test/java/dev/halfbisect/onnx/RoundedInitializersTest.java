package dev.halfbisect.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An emulation search rewrites one parsed model per probe: its weights are rounded once
 * (RoundedInitializers), whatever the plan, and the values are those of a fresh rounding.
 */
class RoundedInitializersTest {
  private static OnnxModel model() {
    GraphBuilder g = GraphBuilder.create("w", 13);
    String x = g.input("x", DType.FLOAT32, 4);
    String w = g.initializer("w", Tensor.ofFloats(new long[] {4}, 1.0001f, 3.14159f, 1e-6f, 7e4f));
    String y = g.mul(x, w);
    g.output(g.add(y, w), "z");
    return g.build();
  }

  private static Onnx.TensorProto initializer(OnnxModel m, String name) {
    return m.proto().getGraph().getInitializerList().stream()
        .filter(t -> t.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void oneParsedModelIsRoundedOnceWhateverThePlan() {
    OnnxModel m = model();
    OnnxModel a = Fp16Emulation.apply(m, PrecisionPlan.allFp16());
    String mul = m.proto().getGraph().getNode(0).getName();
    OnnxModel b = Fp16Emulation.apply(m, PrecisionPlan.allFp16().pin(List.of(mul)));
    // all-FP16: w rounded in place; with the Mul pinned, a rounded copy beside the FP32 original
    assertThat(initializer(a, "w").getRawData())
        .isSameAs(initializer(b, "w__fp16emu").getRawData());
    float[] want = {Half.round(1.0001f), Half.round(3.14159f), Half.round(1e-6f), 65504f};
    ByteBuffer raw =
        initializer(a, "w").getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    for (float v : want) {
      assertThat(raw.getFloat()).isEqualTo(v);
    }
  }

  @Test
  void aModelParsedAgainIsRoundedAgainAndEachTypeHasItsOwn() {
    OnnxModel m = model();
    OnnxModel again = OnnxModel.parse(m.toBytes(), null, "again");
    Onnx.TensorProto w = initializer(m, "w");
    Onnx.TensorProto w2 = initializer(again, "w");
    assertThat(RoundedInitializers.of(w, null, LowPrecision.FP16))
        .isSameAs(RoundedInitializers.of(w, null, LowPrecision.FP16))
        .isNotSameAs(RoundedInitializers.of(w2, null, LowPrecision.FP16))
        .isEqualTo(RoundedInitializers.of(w2, null, LowPrecision.FP16))
        .isNotEqualTo(RoundedInitializers.of(w, null, LowPrecision.BF16));
  }

  @Test
  void theStrongPathEncodesAndWidensOncePerParsedModel() {
    OnnxModel m = model();
    String mul = m.proto().getGraph().getNode(0).getName();
    OnnxModel a = Fp16Conversion.apply(m, PrecisionPlan.allFp16()).model();
    OnnxModel b = Fp16Conversion.apply(m, PrecisionPlan.allFp16().pin(List.of(mul))).model();
    // all-FP16: w becomes float16 in place; with the Mul pinned, an FP16 copy beside the original
    Onnx.TensorProto half = initializer(a, "w");
    assertThat(half.getDataType()).isEqualTo(DType.FLOAT16.onnxCode());
    assertThat(half.getRawData()).isSameAs(initializer(b, "w__fp16").getRawData());
    ByteBuffer bits = half.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] want = {Half.round(1.0001f), Half.round(3.14159f), Half.round(1e-6f), 65504f};
    for (float v : want) {
      assertThat(Half.toFloat(bits.getShort())).isEqualTo(v);
    }
    // the strong emulation widens that buffer back to float32 once, with the same values
    Onnx.TensorProto wide = initializer(CastPlacedEmulation.apply(a, LowPrecision.FP16), "w");
    assertThat(wide.getDataType()).isEqualTo(DType.FLOAT32.onnxCode());
    assertThat(wide.getRawData())
        .isSameAs(
            initializer(CastPlacedEmulation.apply(b, LowPrecision.FP16), "w__fp16").getRawData());
    ByteBuffer f = wide.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    for (float v : want) {
      assertThat(f.getFloat()).isEqualTo(v);
    }
  }

  @Test
  void aLowTypeInitializerWhoseRawDataIsShortStillFailsNamingIt() {
    OnnxModel m = Fp16Conversion.apply(model(), PrecisionPlan.allFp16()).model();
    Onnx.ModelProto.Builder p = m.proto().toBuilder();
    Onnx.TensorProto.Builder w = p.getGraphBuilder().getInitializerBuilder(0);
    w.setRawData(w.getRawData().substring(0, 6));
    OnnxModel broken = m.withProto(p.build());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> CastPlacedEmulation.apply(broken, LowPrecision.FP16))
        .hasMessageContaining("'" + w.getName() + "'")
        .hasMessageContaining("bytes");
  }
}
