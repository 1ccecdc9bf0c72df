package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.Fp16Accumulation;
import dev.halfbisect.onnx.Fp16Emulation;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code ort:fp16-acc16-emulated}: FP16 storage plus an FP16 accumulator in MatMul, rounded every
 * 16 products. Checked against the same sums done in Java with {@link Half}.
 */
class Fp16AccumulationBackendTest {
  private static final int K = 1024;
  private static final float W = 0.1f; // 0.0999755859375 in FP16

  private final OrtBackend backend = new OrtBackend();

  /** y = x (1 x K) times a K x 2 weight of W: 64 chunks of 16 products. */
  private static OnnxModel dot(long k) {
    GraphBuilder g = GraphBuilder.create("dot", 13);
    String x = g.input("x", DType.FLOAT32, 1, k);
    float[] w = new float[(int) k * 2];
    Arrays.fill(w, W);
    String y = g.matMul(x, g.initializer("w", Tensor.ofFloats(new long[] {k, 2}, w)));
    g.output(y, "y");
    return g.build();
  }

  private float run(OnnxModel m, String mode, PrecisionPlan plan, long k) throws Exception {
    float[] ones = new float[(int) k];
    Arrays.fill(ones, 1f);
    try (BackendSession s = backend.open(m.toModelRef(), BuildOptions.of(mode, plan))) {
      return s.run(Map.of("x", Tensor.ofFloats(new long[] {1, k}, ones)))
          .get("y")
          .toFloatArray()[0];
    }
  }

  @Test
  void theRunningSumIsRoundedToFp16EverySixteenProducts() throws Exception {
    float w16 = Half.round(W);
    float chunk = 16 * w16; // exact in FP32: sixteen equal FP16 values
    float acc = Half.round(chunk);
    for (int c = 1; c < K / 16; c++) {
      acc = Half.round(acc + chunk);
    }
    float exact = Half.round(K * w16); // FP32 accumulation, the output rounded once
    assertThat(acc).as("the FP16 accumulator drifts from the FP32 sum").isNotEqualTo(exact);

    OnnxModel m = dot(K);
    assertThat(run(m, "fp16-acc16-emulated", PrecisionPlan.allFp16(), K)).isEqualTo(acc);
    assertThat(run(m, "fp16-emulated", PrecisionPlan.allFp16(), K)).isEqualTo(exact);
    // the same accumulator on the Cast-placed model strong typing builds
    assertThat(run(m, "fp16-strong-acc16-emulated", PrecisionPlan.allFp16(), K)).isEqualTo(acc);
    assertThat(run(m, "fp16-strong-emulated", PrecisionPlan.allFp16(), K)).isEqualTo(exact);
    // a pinned MatMul accumulates in FP32: as in fp16-emulated under the same plan
    String mm = m.proto().getGraph().getNode(0).getName();
    PrecisionPlan pinned = PrecisionPlan.allFp16().pin(List.of(mm));
    assertThat(run(m, "fp16-acc16-emulated", pinned, K))
        .isEqualTo(run(m, "fp16-emulated", pinned, K))
        .isNotEqualTo(acc);
  }

  @Test
  void aGemmAccumulatesTheSameWayWithItsBiasInTheLastChunk() throws Exception {
    // y = x (1 x K) times W^T (W: 2 x K, transB) + 0.5
    GraphBuilder g = GraphBuilder.create("gemm", 13);
    String x = g.input("x", DType.FLOAT32, 1, K);
    float[] w = new float[K * 2];
    Arrays.fill(w, W);
    String wt = g.initializer("w", Tensor.ofFloats(new long[] {2, K}, w));
    String c = g.initializer("c", Tensor.ofFloats(new long[] {2}, 0.5f, 0.5f));
    g.output(g.gemm(x, wt, c, false, true), "y");
    OnnxModel m = g.build();
    float chunk = 16 * Half.round(W);
    float acc = Half.round(chunk);
    for (int i = 1; i < K / 16 - 1; i++) {
      acc = Half.round(acc + chunk);
    }
    acc = Half.round(acc + (chunk + 0.5f));
    assertThat(run(m, "fp16-acc16-emulated", PrecisionPlan.allFp16(), K)).isEqualTo(acc);
    assertThat(run(m, "fp16-emulated", PrecisionPlan.allFp16(), K))
        .isEqualTo(Half.round(K * Half.round(W) + 0.5f));
  }

  @Test
  void aReductionKnownOnlyAtRunTimeAccumulatesTheSameWayItsLastChunkShort() throws Exception {
    // x (1 x n) times a weight w (n x 2), n dynamic; n = 1000: 62 chunks of 16, then one of 8
    long n = 1000;
    GraphBuilder g = GraphBuilder.create("dyn", 13);
    String x = g.dynamicInput("x", DType.FLOAT32, 1, "n");
    String w = g.dynamicInput("w", DType.FLOAT32, "n", 2);
    g.output(g.matMul(x, w), "y");
    OnnxModel m = g.build();
    float w16 = Half.round(W);
    float acc = Half.round(16 * w16);
    for (int c = 1; c < n / 16; c++) {
      acc = Half.round(acc + 16 * w16);
    }
    acc = Half.round(acc + 8 * w16);
    float[] ones = new float[(int) n];
    Arrays.fill(ones, 1f);
    float[] weights = new float[(int) n * 2];
    Arrays.fill(weights, W);
    Map<String, Tensor> feeds =
        Map.of(
            "x", Tensor.ofFloats(new long[] {1, n}, ones),
            "w", Tensor.ofFloats(new long[] {n, 2}, weights));
    try (BackendSession s = backend.open(m.toModelRef(), BuildOptions.of("fp16-acc16-emulated"))) {
      assertThat(s.run(feeds).get("y").toFloatArray()[0]).isEqualTo(acc);
    }
    try (BackendSession s = backend.open(m.toModelRef(), BuildOptions.of("fp16-emulated"))) {
      assertThat(s.run(feeds).get("y").toFloatArray()[0])
          .as("FP32 accumulation differs")
          .isEqualTo(Half.round(n * w16))
          .isNotEqualTo(acc);
    }
  }

  @Test
  void onlyFp16MatMulsOfTwoChunksOrMoreOrOfAReductionKnownAtRunTimeAreRewritten() {
    OnnxModel big = Fp16Emulation.apply(dot(64), PrecisionPlan.allFp16());
    OnnxModel rewritten = Fp16Accumulation.apply(big, 16);
    assertThat(count(rewritten, "Loop")).isEqualTo(1);
    // one loop, not 6 nodes per chunk
    assertThat(rewritten.proto().getGraph().getNodeCount())
        .isLessThan(big.proto().getGraph().getNodeCount() + 20);
    OnnxModel small = Fp16Emulation.apply(dot(16), PrecisionPlan.allFp16());
    assertThat(count(Fp16Accumulation.apply(small, 16), "Loop")).isZero();
    // a reduction over a dynamic dim: the loop counts its chunks at run time
    GraphBuilder g = GraphBuilder.create("dyn", 13);
    String a = g.dynamicInput("a", DType.FLOAT32, 1, "n");
    String b = g.dynamicInput("b", DType.FLOAT32, "n", 2);
    g.output(g.matMul(a, b), "y");
    OnnxModel dyn = Fp16Emulation.apply(g.build(), PrecisionPlan.allFp16());
    assertThat(count(Fp16Accumulation.apply(dyn, 16), "Loop")).isEqualTo(1);
  }

  private static long count(OnnxModel m, String op) {
    return m.proto().getGraph().getNodeList().stream()
        .map(Onnx.NodeProto::getOpType)
        .filter(op::equals)
        .count();
  }
}
