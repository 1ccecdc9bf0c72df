package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.builder.ParseTimeModels;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The searches on {@code ort:fp16-emulated} answer what TensorRT answers where it rewrites the
 * network at parse time (issue 15): a Conv-BN CNN with a BN variance of 9.79e7 passes, an
 * attention-mask fill is no overflow in the main graph nor in the shadow graph, folded nodes are
 * never proposed, and constants are not inherited error.
 */
class ParseTimeFidelityTest {
  private static BisectContext context(OnnxModel m, Map<String, Tensor> sample) {
    Backend ort = Backends.get("ort");
    return BisectContext.builder(
            ModelGraph.of(m), ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
        .samples(List.of(sample))
        .build();
  }

  private static Tensor uniform(long[] shape, long seed) {
    Random r = new Random(seed);
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (2 * r.nextDouble() - 1);
    }
    return Tensor.ofFloats(shape, v);
  }

  @Test
  void convBnCnnWithHugeVariancePassesAndItsBatchNormsAreFolded() {
    OnnxModel m = ParseTimeModels.convBnCnn(ParseTimeModels.HUGE_VARIANCE);
    BisectContext ctx = context(m, Map.of("x", uniform(new long[] {1, 3, 16, 16}, 1)));
    Layerwise.Result compare = Layerwise.run(ctx, t -> false);
    assertThat(compare.outputsPass()).as("compare on emulation").isTrue();
    assertThat(ctx.model().foldedNodes()).contains(ParseTimeModels.BN1, "/block2/bn");
    assertThat(ctx.model().isFoldedByTensorRt(ParseTimeModels.CONV1)).isFalse();

    Amplification.Result amp = Amplification.analyze(ctx);
    assertThat(amp.unmeasured())
        .containsEntry(ParseTimeModels.BN1, Amplification.FOLDED_BY_TENSORRT);
    assertThat(amp.ranking().subList(0, 3)).doesNotContain(ParseTimeModels.BN1);
  }

  @Test
  void attentionMaskFillIsNoOverflowInTheShadowGraphAndIsNeverPinned() {
    OnnxModel m = ParseTimeModels.maskedSoftmax();
    Map<String, Tensor> sample =
        Map.of(
            "scores", uniform(new long[] {1, 2, 8, 8}, 2),
            "mask", Tensor.ofLongs(new long[] {1, 8}, 1, 1, 1, 1, 1, 0, 0, 0));
    BisectContext ctx = context(m, sample);
    Amplification.Result amp = Amplification.analyze(ctx);
    Amplification.NodeAmplification mul = amp.node(ParseTimeModels.MASK_MUL).orElseThrow();
    assertThat(mul.method()).isEqualTo(Amplification.Method.SHADOW);
    assertThat(mul.localError()).as("shadow clamps the -3.4e38 fill as TensorRT does").isFinite();
    assertThat(mul.localPass()).isTrue();
    assertThat(PrecisionSearch.overflowNodes(ctx.model(), amp)).isEmpty();
    Layerwise.Result lw = Layerwise.run(ctx);
    assertThat(lw.firstFailing()).isEmpty();
    assertThat(lw.outputsPass()).isTrue();
  }

  @Test
  void constantInputsAreNotInheritedError() {
    // Add(var, eps) with eps = 1e-12 in a Constant node: FP16 flushes eps to 0 (error 1.0)
    GraphBuilder g = GraphBuilder.create("eps", 13);
    String x = g.input("x", DType.FLOAT32, 1, 8);
    String eps = g.constant(Tensor.ofFloats(new long[0], 1e-12f));
    String sq = g.mul(x, x);
    String add = g.op("Add").in(sq, eps).name("add_eps").add1();
    g.output(g.sqrt(add), "y");
    BisectContext ctx = context(g.build(), Map.of("x", uniform(new long[] {1, 8}, 3)));
    Amplification.Result amp = Amplification.analyze(ctx);
    Amplification.NodeAmplification a = amp.node("add_eps").orElseThrow();
    assertThat(a.inputError()).as("only x*x counts as inherited").isLessThan(1e-2);
  }

  @Test
  void nearZeroOutputPassesByTheAbsoluteFallback() {
    OnnxModel m = ParseTimeModels.nearZeroOutput();
    BisectContext ctx = context(m, Map.of("x", uniform(new long[] {1, 64}, 4)));
    Layerwise.Result r = Layerwise.run(ctx, t -> false);
    Layerwise.TensorReport y = r.tensors().get(0);
    assertThat(y.error().normalizedError()).isGreaterThan(1e-2);
    assertThat(y.error().worst().verdict().nearZeroReference()).isTrue();
    assertThat(r.outputsPass()).isTrue();
  }
}
