package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.Fp16TestModels.normalizedError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.builder.OrtTestRunner;
import dev.halfbisect.onnx.builder.ParseTimeModels;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * One test per row of docs/onnx-surgery.md's table "What TensorRT does at parse time": each shows
 * the emulation doing what TensorRT does, on a model where rounding first would give another
 * answer.
 */
class TrtParseFoldingTest {
  private static Tensor image() {
    Random r = new Random(5);
    float[] v = new float[3 * 16 * 16];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (2 * r.nextDouble() - 1);
    }
    return Tensor.ofFloats(new long[] {1, 3, 16, 16}, v);
  }

  private static float[] run(OnnxModel m, Map<String, Tensor> in) {
    return OrtTestRunner.run(m.proto(), in).get("y");
  }

  /** Row "Conv + BatchNormalization": fused in FP32, the fused weights rounded once. */
  @Test
  void convBnWithHugeVarianceIsFusedAndPassesWhereRoundingTheVarianceFails() {
    OnnxModel m = ParseTimeModels.convBnCnn(ParseTimeModels.HUGE_VARIANCE);
    Map<String, Tensor> in = Map.of("x", image());
    float[] ref = run(m, in);

    TrtParseFolding.Result f = TrtParseFolding.apply(m);
    assertThat(f.model().graph().getNodeList())
        .noneMatch(n -> n.getOpType().equals("BatchNormalization"));
    assertThat(f.foldedNodes()).contains(ParseTimeModels.BN1, "/block2/bn");
    assertThat(f.origins()).containsEntry(ParseTimeModels.CONV1 + "__trt_conv_bn", "/block1/conv");
    // the folded model computes the same function in FP32
    assertThat(normalizedError(ref, run(f.model(), in))).isLessThan(1e-5);

    float[] emu = run(Fp16Emulation.apply(m, PrecisionPlan.allFp16()), in);
    assertThat(Fp16TestModels.allFinite(emu)).isTrue();
    assertThat(normalizedError(ref, emu)).isLessThan(1e-2).isGreaterThan(0);

    // what rounding the BN's variance to FP16 (clamped to 65504) first would have given
    float[] roundedVariance = run(ParseTimeModels.convBnCnn(Half.round(Half.MAX_VALUE)), in);
    assertThat(normalizedError(ref, roundedVariance)).isGreaterThan(0.1);
  }

  /** Row "BatchNormalization (no fusable Conv)": scale and shift computed in FP32. */
  @Test
  void standaloneBatchNormBecomesScaleAndShiftComputedInFp32() {
    GraphBuilder g = GraphBuilder.create("bn", 13);
    String x = g.input("x", DType.FLOAT32, 1, 2, 4, 4);
    String bn =
        g.op("BatchNormalization")
            .in(
                x,
                g.constant(Tensor.ofFloats(new long[] {2}, 1000f, 1f)),
                g.constant(Tensor.ofFloats(new long[] {2}, 0.5f, 0f)),
                g.constant(Tensor.ofFloats(new long[] {2}, 0f, 0.1f)),
                g.constant(Tensor.ofFloats(new long[] {2}, ParseTimeModels.HUGE_VARIANCE, 2f)))
            .name("bn")
            .add1();
    g.output(bn, "y");
    OnnxModel m = g.build();
    float[] xs = new float[32];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = 0.1f * i;
    }
    Map<String, Tensor> in = Map.of("x", Tensor.ofFloats(new long[] {1, 2, 4, 4}, xs));
    float[] ref = run(m, in);

    TrtParseFolding.Result f = TrtParseFolding.apply(m);
    assertThat(f.foldedNodes()).doesNotContain("bn"); // a scale layer remains
    assertThat(f.origins()).containsEntry("bn__trt_scale_layer", "bn");
    float[] emu = run(Fp16Emulation.apply(m, PrecisionPlan.allFp16()), in);
    assertThat(normalizedError(ref, emu)).isLessThan(1e-2);
    // pinning the BN pins the layers it became: they read x and write y's tensor unrounded
    OnnxModel pm = Fp16Emulation.apply(m, PrecisionPlan.fp16Except(List.of("bn")));
    assertThat(pm.index().node("bn__trt_scale_layer").getInputList()).contains("x");
    assertThat(pm.index().node("bn__trt_shift_layer").getOutput(0)).isEqualTo(bn);
    assertThat(normalizedError(ref, run(pm, in))).isLessThan(1e-3);
  }

  /** Row "constant subgraph": evaluated in FP32, the result rounded once where it is read. */
  @Test
  void constantSubgraphIsEvaluatedInFp32AndRoundedOnce() {
    GraphBuilder g = GraphBuilder.create("const_subgraph", 13);
    String x = g.input("x", DType.FLOAT32, 4);
    String var = g.constant(Tensor.ofFloats(new long[0], ParseTimeModels.HUGE_VARIANCE));
    String std = g.sqrt(g.add(var, g.scalar(DType.FLOAT32, 1e-5f)));
    String scale = g.div(g.scalar(DType.FLOAT32, 1000f), std);
    g.output(g.mul(x, scale), "y");
    OnnxModel m = g.build();
    Map<String, Tensor> in = Map.of("x", Tensor.ofFloats(new long[] {4}, 1f, 2f, 3f, 4f));
    float[] ref = run(m, in);

    List<String> folded = TrtParseFolding.foldedNodes(m);
    assertThat(folded).hasSize(3); // Add, Sqrt, Div; the Mul reads the input
    float[] emu = run(Fp16Emulation.apply(m, PrecisionPlan.allFp16()), in);
    float scaleOnce = Half.round(1000f / (float) Math.sqrt(ParseTimeModels.HUGE_VARIANCE + 1e-5f));
    for (int i = 0; i < 4; i++) {
      assertThat(emu[i]).isEqualTo(Half.round(Half.round(i + 1f) * scaleOnce));
    }
    assertThat(normalizedError(ref, emu)).isLessThan(1e-3);
  }

  /**
   * Row "constant beyond +-65504": clamped before rounding, also where the Constant node itself is
   * pinned FP32 (the shadow graph's case) and the FP16 reader rounds its value.
   */
  @Test
  void pinnedConstantIsClampedWhereAnFp16NodeReadsIt() {
    OnnxModel m = MarkOutputs.tensors(ParseTimeModels.maskedSoftmax(), List.of(fillTensor()));
    String constantNode =
        m.graph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("Constant"))
            .map(Onnx.NodeProto::getName)
            .findFirst()
            .orElseThrow();
    float[] scores = new float[2 * 8 * 8];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = (i % 7) * 0.5f;
    }
    Map<String, Tensor> in =
        Map.of(
            "scores", Tensor.ofFloats(new long[] {1, 2, 8, 8}, scores),
            "mask", Tensor.ofLongs(new long[] {1, 8}, 1, 1, 1, 1, 1, 1, 0, 0));
    Map<String, float[]> ref = OrtTestRunner.run(m.proto(), in);
    Map<String, float[]> emu =
        OrtTestRunner.run(
            Fp16Emulation.apply(m, PrecisionPlan.fp16Except(List.of(constantNode))).proto(), in);
    float[] fill = emu.get(fillTensor());
    assertThat(fill[6]).isEqualTo(-65504f);
    assertThat(fill[0]).isEqualTo(0f);
    assertThat(Fp16TestModels.allFinite(emu.get("y"))).isTrue();
    assertThat(normalizedError(ref.get("y"), emu.get("y"))).isLessThan(1e-2);
  }

  @Test
  void modelWithoutBatchNormIsReturnedUnchangedWithItsFoldedNodes() {
    OnnxModel m = ParseTimeModels.nearZeroOutput();
    TrtParseFolding.Result f = TrtParseFolding.apply(m);
    assertThat(f.model()).isSameAs(m);
    assertThat(f.foldedNodes()).isEmpty();
    assertThat(f.plan(PrecisionPlan.allFp16())).isEqualTo(PrecisionPlan.allFp16());
  }

  private static String fillTensor() {
    return ParseTimeModels.maskedSoftmax().index().node(ParseTimeModels.MASK_MUL).getOutput(0);
  }
}
