package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.Fp16TestModels.blockInput;
import static dev.halfbisect.onnx.Fp16TestModels.normalizedError;
import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.builder.OrtTestRunner;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class Fp16EmulationTest {

  @Test
  void overflowingDecomposedLayerNormFailsInFp16AndPassesWhenPinned() {
    Onnx.ModelProto m = Fp16TestModels.block(600f);
    Map<String, Tensor> in = Map.of("x", blockInput(1f));
    float[] ref = OrtTestRunner.run(m, in).get("y");

    float[] allFp16 =
        OrtTestRunner.run(Fp16Emulation.applyToProto(m, PrecisionPlan.allFp16()), in).get("y");
    boolean nonFinite = false;
    for (float v : allFp16) {
      nonFinite |= !Float.isFinite(v);
    }
    assertThat(nonFinite || normalizedError(ref, allFp16) > 0.3)
        .as("FP16 LayerNorm statistics overflow: error %s", normalizedError(ref, allFp16))
        .isTrue();

    List<String> ln = Fp16TestModels.layerNormNodes(m);
    assertThat(ln).hasSize(7);
    float[] pinned =
        OrtTestRunner.run(Fp16Emulation.applyToProto(m, PrecisionPlan.fp16Except(ln)), in).get("y");
    assertThat(Fp16TestModels.allFinite(pinned)).isTrue();
    assertThat(normalizedError(ref, pinned)).isLessThan(1e-2).isGreaterThan(0);
  }

  @Test
  void healthyBlockHasSmallNonZeroError() {
    Onnx.ModelProto m = Fp16TestModels.block(1f);
    Map<String, Tensor> in = Map.of("x", blockInput(1f));
    float[] ref = OrtTestRunner.run(m, in).get("y");
    float[] emu =
        OrtTestRunner.run(Fp16Emulation.applyToProto(m, PrecisionPlan.allFp16()), in).get("y");
    assertThat(normalizedError(ref, emu)).isGreaterThan(1e-5).isLessThan(1e-2);
    assertThat(Fp16Emulation.applyToProto(m, PrecisionPlan.allFp32())).isSameAs(m);
  }

  @ParameterizedTest
  @EnumSource(
      value = OptLevel.class,
      names = {"NO_OPT", "BASIC_OPT", "EXTENDED_OPT", "ALL_OPT"})
  void roundsExactlyAsHalfPredictsAtEveryOptimizationLevel(OptLevel level) {
    GraphBuilder g = GraphBuilder.create("round", 13);
    String x = g.input("x", DType.FLOAT32, 4);
    String w =
        g.initializer("w", Tensor.ofFloats(new long[] {4}, 1.0001f, 3.14159f, 1e-6f, 70000f));
    g.output(g.mul(x, w));
    Onnx.ModelProto emu = Fp16Emulation.applyToProto(g.buildProto(), PrecisionPlan.allFp16());
    float[] xs = {1.0003f, 2.71828f, 0.1f, 0.5f};
    float[] got =
        OrtTestRunner.run(emu, Map.of("x", Tensor.ofFloats(new long[] {4}, xs)), level)
            .values()
            .iterator()
            .next();
    float[] ws = {1.0001f, 3.14159f, 1e-6f, 65504f}; // 70000 is clamped (a weight)
    for (int i = 0; i < 4; i++) {
      float want = Half.round(Half.round(xs[i]) * Half.round(ws[i]));
      assertThat(got[i]).as("element %s", i).isEqualTo(want);
    }
    assertThat(got[0]).isNotEqualTo(xs[0] * ws[0]);
  }

  @Test
  void sqrtOfOverflowIsInfinityAndNanStaysNan() {
    GraphBuilder g = GraphBuilder.create("sqrt", 13);
    String x = g.input("x", DType.FLOAT32, 3);
    g.output(g.sqrt(g.mul(x, x)));
    Onnx.ModelProto emu = Fp16Emulation.applyToProto(g.buildProto(), PrecisionPlan.allFp16());
    float[] got =
        OrtTestRunner.run(emu, Map.of("x", Tensor.ofFloats(new long[] {3}, 300f, Float.NaN, 3f)))
            .values()
            .iterator()
            .next();
    assertThat(got[0]).isEqualTo(Float.POSITIVE_INFINITY); // 90000 -> inf in FP16, sqrt(inf) = inf
    assertThat(got[1]).isNaN();
    assertThat(got[2]).isEqualTo(3f);
    Onnx.NodeProto sqrt =
        emu.getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("Sqrt"))
            .findFirst()
            .orElseThrow();
    Onnx.NodeProto min =
        emu.getGraph().getNodeList().stream()
            .filter(n -> n.getOutput(0).equals(sqrt.getInput(0)))
            .findFirst()
            .orElseThrow();
    assertThat(min.getOpType()).isEqualTo("Min");
  }

  @Test
  void constantsBeyondFp16RangeAreClampedSoMaskTimesZeroStaysFinite() {
    GraphBuilder g = GraphBuilder.create("mask", 13);
    String x = g.input("x", DType.FLOAT32, 4);
    String keep = g.input("keep", DType.FLOAT32, 4); // 1 = attend, 0 = masked
    String inverted = g.sub(g.scalar(DType.FLOAT32, 1f), keep);
    String init = g.initializer("mask_min", Tensor.ofFloats(new long[0], -3.4028235e38f));
    String constNode = g.constant(Tensor.ofFloats(new long[0], -3.4028235e38f));
    String filled = g.constantOfShape(g.shape(x), -3.4028235e38f);
    g.output(g.add(x, g.mul(inverted, init)));
    g.output(g.add(x, g.mul(inverted, constNode)));
    g.output(g.add(x, g.mul(inverted, filled)));
    Onnx.ModelProto emu = Fp16Emulation.applyToProto(g.buildProto(), PrecisionPlan.allFp16());
    Map<String, float[]> out =
        OrtTestRunner.run(
            emu,
            Map.of(
                "x", Tensor.ofFloats(new long[] {4}, 0.5f, 1f, 2f, 3f),
                "keep", Tensor.ofFloats(new long[] {4}, 1f, 1f, 0f, 0f)));
    for (float[] y : out.values()) {
      assertThat(y)
          .containsExactly(0.5f, 1f, -65504f, -65504f); // 2 - 65504 rounds to -65504 in FP16
    }
    assertThat(OrtTestRunner.initializerFloats(emu, "mask_min")).containsExactly(-65504f);
  }

  @Test
  void pinnedNodesAreUntouchedAndTensorsRoundedOnce() {
    GraphBuilder g = GraphBuilder.create("pin", 13);
    String x = g.input("x", DType.FLOAT32, 4);
    String w = g.initializer("w", Tensor.ofFloats(new long[] {4}, 1.0001f, 2f, 3f, 4f));
    String a = g.mul(x, w); // FP16
    String b = g.add(x, w); // pinned
    String c = g.sub(x, a); // FP16 reading x again and a pinned-free producer
    String d = g.mul(b, c); // FP16 reading the pinned output
    g.output(d).output(b);
    Onnx.ModelProto m = g.buildProto();
    Onnx.ModelProto emu = Fp16Emulation.applyToProto(m, PrecisionPlan.fp16Except(List.of("/Add")));

    Onnx.NodeProto pinned = Fp16TestModels.node(emu, "/Add");
    assertThat(pinned)
        .isEqualTo(Fp16TestModels.node(m, "/Add")); // same inputs (exact x, exact w), same output
    List<Onnx.NodeProto> casts =
        emu.getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("Cast"))
            .collect(Collectors.toList());
    // x rounded once (2 casts), b rounded once for its FP16 reader (2), outputs of Mul, Sub, Mul (2
    // each)
    assertThat(casts).hasSize(10);
    assertThat(emu.getGraph().getNodeList().stream().filter(n -> n.getInput(0).equals("x")).count())
        .as("x read by the pinned Add and by one Cast")
        .isEqualTo(2);
    // w is read by FP16 and FP32 nodes: the original stays, a rounded copy feeds the FP16 Mul
    assertThat(OrtTestRunner.initializerFloats(emu, "w")).containsExactly(1.0001f, 2f, 3f, 4f);
    assertThat(OrtTestRunner.initializerFloats(emu, "w__fp16emu"))
        .containsExactly(Half.round(1.0001f), 2f, 3f, 4f);
    assertThat(Fp16TestModels.node(emu, "/Mul").getInputList())
        .containsExactly("x__fp16emu", "w__fp16emu");

    float[] xs = {1.0003f, 2f, 3f, 4f};
    Map<String, float[]> got =
        OrtTestRunner.run(emu, Map.of("x", Tensor.ofFloats(new long[] {4}, xs)));
    float bExact = xs[0] + 1.0001f;
    assertThat(got.get(b)[0]).isEqualTo(bExact); // pinned output not rounded
    float aR = Half.round(Half.round(xs[0]) * Half.round(1.0001f));
    float cR = Half.round(Half.round(xs[0]) - aR);
    assertThat(got.get(d)[0]).isEqualTo(Half.round(Half.round(bExact) * cR));
  }

  @Test
  void fp16IoPolicyRoundsGraphInputsAndOutputsAroundPinnedNodes() {
    GraphBuilder g = GraphBuilder.create("io", 13);
    String x = g.input("x", DType.FLOAT32, 1);
    g.output(g.add(x, g.initializer("w", Tensor.ofFloats(new long[] {1}, 1.0001f))));
    PrecisionPlan plan =
        PrecisionPlan.fp16Except(List.of("/Add")).withIoPolicy(PrecisionPlan.IoPolicy.FP16);
    Onnx.ModelProto emu = Fp16Emulation.applyToProto(g.buildProto(), plan);
    float got =
        OrtTestRunner.run(emu, Map.of("x", Tensor.ofFloats(new long[] {1}, 1.0003f)))
            .values()
            .iterator()
            .next()[0];
    assertThat(got).isEqualTo(Half.round(Half.round(1.0003f) + 1.0001f));
    Onnx.ModelProto keep =
        Fp16Emulation.applyToProto(g.buildProto(), PrecisionPlan.fp16Except(List.of("/Add")));
    float exact =
        OrtTestRunner.run(keep, Map.of("x", Tensor.ofFloats(new long[] {1}, 1.0003f)))
            .values()
            .iterator()
            .next()[0];
    assertThat(exact).isEqualTo(1.0003f + 1.0001f);
  }
}
