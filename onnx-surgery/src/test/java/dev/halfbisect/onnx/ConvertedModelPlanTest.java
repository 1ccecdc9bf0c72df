package dev.halfbisect.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 19: the FP32 set a converted model encodes. */
class ConvertedModelPlanTest {
  /** x -> a (Mul) -> b (Pow) -> c (Add) -> d (Relu) -> y, names given. */
  private static OnnxModel chain() {
    GraphBuilder g = GraphBuilder.create("chain", 13);
    String x = g.input("x", DType.FLOAT32, 1, 8);
    String a = g.op("Mul").in(x, g.scalar(DType.FLOAT32, 3f)).name("a").add1();
    String b = g.op("Pow").in(a, g.scalar(DType.FLOAT32, 2f)).name("b").add1();
    String c = g.op("Add").in(b, x).name("c").add1();
    String d = g.op("Relu").in(c).name("d").add1();
    g.output(d);
    return g.build();
  }

  @Test
  void ourOwnConversionRoundTripsToItsPlanInBothTypes() {
    OnnxModel m = chain();
    for (LowPrecision low : LowPrecision.values()) {
      PrecisionPlan plan = PrecisionPlan.fp16Except(List.of("b", "c"));
      OnnxModel converted = Fp16Conversion.apply(m, plan, low).model();
      ConvertedModelPlan.Derived d = ConvertedModelPlan.derive(converted, m);
      assertThat(d.fp32Nodes()).as(low.name()).containsExactly("b", "c");
      assertThat(d.low()).isEqualTo(low);
      assertThat(d.missing()).isEmpty();
      assertThat(d.lowNodes()).isEqualTo(d.floatNodes() - 2);
      assertThat(d.plan()).isEqualTo(plan);
    }
  }

  @Test
  void autoCastStyleIslandAndConverterNamesAreRecognised() {
    OnnxModel m = chain();
    // AutoCast-style: the converter's Casts have names of their own, the island b, c keeps FP32
    OnnxModel converted =
        Fp16Conversion.apply(m, PrecisionPlan.fp16Except(List.of("b", "c"))).model();
    OnnxModel renamed =
        converted.withProto(
            converted.proto().toBuilder()
                .setGraph(
                    converted.graph().toBuilder()
                        .clearNode()
                        .addAllNode(
                            converted.graph().getNodeList().stream()
                                .map(
                                    n ->
                                        n.getOpType().equals("Cast")
                                            ? n.toBuilder()
                                                .setName(
                                                    n.getInput(0)
                                                        + (n.getAttribute(0).getI() == 10
                                                            ? "_cast_to_fp16"
                                                            : "_cast_to_fp32"))
                                                .build()
                                            : n)
                                .toList()))
                .build());
    ConvertedModelPlan.Derived d = ConvertedModelPlan.derive(renamed, m);
    assertThat(d.fp32Nodes()).containsExactly("b", "c");
    assertThat(d.style()).isEqualTo("AutoCast-style");
    assertThat(d.describe("m16.onnx"))
        .isEqualTo("AutoCast-style model m16.onnx keeps 2 of 4 float nodes in FP32 (2 in FP16)");
  }

  @Test
  void aFloat32ModelOrAnotherModelIsRejectedWithTheReason() {
    OnnxModel m = chain();
    assertThatThrownBy(() -> ConvertedModelPlan.derive(m, m))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no float16 or bfloat16 tensor");
    GraphBuilder other = GraphBuilder.create("other", 13);
    other.output(other.op("Sigmoid").in(other.input("z", DType.FLOAT32, 4)).name("s").add1());
    OnnxModel otherFp16 = Fp16Conversion.apply(other.build(), PrecisionPlan.allFp16()).model();
    assertThatThrownBy(() -> ConvertedModelPlan.derive(otherFp16, m))
        .hasMessageContaining("shares no float node");
  }
}
