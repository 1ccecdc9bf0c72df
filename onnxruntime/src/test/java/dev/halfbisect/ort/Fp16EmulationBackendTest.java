package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FP16 emulation as seen through the backend SPI: overflow reproduced, fixed by a plan, not folded
 * away.
 */
class Fp16EmulationBackendTest {
  private static final long[] X = {1, 8, 32};
  private static final String LN1 = "/block/ln1";
  private static final String LN2 = "/block/ln2";
  private static final Set<String> LN_STAT_OPS =
      Set.of("ReduceMean", "Sub", "Pow", "Add", "Sqrt", "Div");

  private final OrtBackend backend = new OrtBackend();

  /**
   * A post-LN (BERT-order) transformer block with decomposed LayerNorms (opset 13 export form):
   * {@code h = LN1(x + attention(x))}, {@code y = LN2(h + MLP(h))} with an Erf-GELU MLP.
   */
  @SuppressWarnings("try") // scopes only name the nodes built inside them
  private static OnnxModel block() {
    GraphBuilder g = GraphBuilder.create("block", 13).seed(5);
    String x = g.input("x", DType.FLOAT32, X);
    String y;
    try (GraphBuilder.Scope b = g.scope("/block")) {
      String h;
      try (GraphBuilder.Scope s = g.scope("attn")) {
        h = g.add(x, g.attention(x, 32, 4, null));
      }
      try (GraphBuilder.Scope s = g.scope("ln1")) {
        h = g.layerNorm(h, 32, 1e-5f, false);
      }
      String m;
      try (GraphBuilder.Scope s = g.scope("mlp")) {
        try (GraphBuilder.Scope f = g.scope("fc1")) {
          m = g.geluErf(g.linear(h, 32, 64));
        }
        try (GraphBuilder.Scope f = g.scope("fc2")) {
          m = g.add(h, g.linear(m, 64, 32));
        }
      }
      try (GraphBuilder.Scope s = g.scope("ln2")) {
        y = g.layerNorm(m, 32, 1e-5f, false);
      }
    }
    g.output(y, "y");
    return g.build();
  }

  /**
   * Activations N(0, 4) with one outlier channel at 300, as the residual streams of real
   * transformers have: LN1 sees |x - mean| of about 290, whose square (8.4e4) overflows FP16, while
   * attention scores stay below 65504.
   */
  private static Tensor input() {
    Random r = new Random(3);
    float[] v = new float[(int) Tensor.elementCount(X)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * 4) + (i % 32 == 7 ? 300f : 0f);
    }
    return Tensor.ofFloats(X, v);
  }

  /** The LayerNorm statistic nodes (everything but the gamma/beta affine) of both LayerNorms. */
  private static List<String> layerNormNodes(OnnxModel m) {
    return m.graph().getNodeList().stream()
        .filter(
            n ->
                (n.getName().startsWith(LN1 + "/") || n.getName().startsWith(LN2 + "/"))
                    && LN_STAT_OPS.contains(n.getOpType()))
        .map(Onnx.NodeProto::getName)
        .collect(Collectors.toList());
  }

  /** Output of the last node inside {@code scope}: the scope's result tensor. */
  private static String lastOutputIn(OnnxModel m, String scope) {
    String last = null;
    for (Onnx.NodeProto n : m.graph().getNodeList()) {
      if (n.getName().startsWith(scope + "/")) {
        last = n.getOutput(0);
      }
    }
    assertThat(last).as("nodes in scope %s", scope).isNotNull();
    return last;
  }

  private RunResult run(ModelRef model, BuildOptions opts, Tensor x) throws Exception {
    try (BackendSession s = backend.open(model, opts)) {
      return s.run(Map.of("x", x));
    }
  }

  @Test
  void layerNormOverflowAppearsInEmulationAndGoesAwayWhenPinned() throws Exception {
    OnnxModel m = block();
    ModelRef ref = m.toModelRef();
    Tensor x = input();
    String ln1Out = lastOutputIn(m, LN1);
    List<String> observed = List.of(ln1Out);
    RunResult fp32 = run(ref, BuildOptions.of("fp32").withObserved(observed), x);
    RunResult fp16 = run(ref, BuildOptions.of("fp16-emulated").withObserved(observed), x);
    ErrorStats broken = ErrorMetrics.compare(fp32.get("y"), fp16.get("y"));
    ErrorStats brokenLn = ErrorMetrics.compare(fp32.get(ln1Out), fp16.get(ln1Out));
    assertThat(ErrorMetrics.compare(fp32.get(ln1Out), fp32.get(ln1Out)).normalizedError()).isZero();
    assertThat(brokenLn.nonFiniteWhereRefFinite() > 0 || brokenLn.normalizedError() > 0.3)
        .as("LayerNorm output in emulation: %s", brokenLn)
        .isTrue();
    assertThat(broken.nonFiniteWhereRefFinite() > 0 || broken.normalizedError() > 0.3)
        .as("block output in emulation: %s", broken)
        .isTrue();

    PrecisionPlan pinned = PrecisionPlan.fp16Except(layerNormNodes(m));
    RunResult fixed = run(ref, BuildOptions.of("fp16-emulated", pinned).withObserved(observed), x);
    ErrorStats ok = ErrorMetrics.compare(fp32.get("y"), fixed.get("y"));
    assertThat(ok.candidateFiniteWhereReferenceFinite()).isTrue();
    assertThat(ok.normalizedError()).isLessThan(1e-2).isGreaterThan(0);
  }

  /** {@code s = Mul(x, x)}, {@code y = Add(s, x)}: two FP16 nodes, one observed intermediate. */
  private static OnnxModel squarePlusX(int n) {
    GraphBuilder g = GraphBuilder.create("square_plus_x", 13);
    String x = g.input("x", DType.FLOAT32, n);
    String sq = g.mul(x, x);
    g.output(g.add(sq, x), "y");
    return g.build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"default", "none", "basic", "extended", "all"})
  void roundingIsNotFoldedAwayAtAnyLevel(String level) throws Exception {
    int n = 2048;
    OnnxModel m = squarePlusX(n);
    String sq = m.graph().getNode(0).getOutput(0);
    float[] x = new float[n];
    Random r = new Random(17);
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() * 30);
    }
    x[0] = 260f; // 67600 > 65504: inf in FP16
    BuildOptions opts = BuildOptions.of("fp16-emulated").withObserved(List.of(sq));
    if (!level.equals("default")) {
      opts = opts.withProperty("ort.optLevel", level);
    }
    RunResult emu = run(m.toModelRef(), opts, Tensor.ofFloats(new long[] {n}, x));
    RunResult ref =
        run(
            m.toModelRef(),
            BuildOptions.of("fp32").withObserved(List.of(sq)),
            Tensor.ofFloats(new long[] {n}, x));
    float[] s = emu.get(sq).toFloatArray();
    float[] y = emu.get("y").toFloatArray();
    float[] s32 = ref.get(sq).toFloatArray();
    int differs = 0;
    for (int i = 0; i < n; i++) {
      float xh = Half.round(x[i]);
      float expectedS = Half.round(xh * xh);
      assertThat(s[i]).as("%s at %s", sq, i).isEqualTo(expectedS);
      assertThat(y[i]).as("y at %s", i).isEqualTo(Half.round(expectedS + xh));
      differs += s[i] != s32[i] ? 1 : 0;
    }
    assertThat(s[0]).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(s32[0]).isEqualTo(67600f);
    assertThat(differs).as("elements FP16 rounding changed").isGreaterThan(n / 2);
  }

  @Test
  void thePlanIsPartOfTheSessionKey() throws Exception {
    OnnxModel m = squarePlusX(4);
    String mul = m.graph().getNode(0).getName();
    String sq = m.graph().getNode(0).getOutput(0);
    ModelRef ref = m.toModelRef();
    BuildOptions allFp16 = BuildOptions.of("fp16-emulated").withObserved(List.of(sq));
    BuildOptions mulFp32 = allFp16.withPlan(PrecisionPlan.fp16Except(List.of(mul)));
    try (BackendSession a = backend.open(ref, allFp16);
        BackendSession b = backend.open(ref, mulFp32);
        BackendSession c = backend.open(ref, mulFp32)) {
      assertThat(a.buildStats().cached()).isFalse();
      assertThat(b.buildStats().cached()).isFalse();
      assertThat(c.buildStats().cached()).isTrue();
      Map<String, Tensor> x = Map.of("x", Tensor.ofFloats(new long[] {4}, 201f, 1f, 2f, 3f));
      // 201^2 = 40401; FP16 spacing there is 32, so an FP16 Mul stores 40416, an FP32 one 40401
      assertThat(a.run(x).get(sq).toFloatArray()[0]).isEqualTo(40416f);
      assertThat(b.run(x).get(sq).toFloatArray()[0]).isEqualTo(40401f);
    }
  }

  @Test
  void pinnedNodesTheModelLacksAreReportedAsABuildWarning() throws Exception {
    OnnxModel m = squarePlusX(4);
    String mul = m.graph().getNode(0).getName();
    PrecisionPlan plan = PrecisionPlan.fp16Except(List.of(mul, "/other/model/Sqrt_3"));
    try (BackendSession s = backend.open(m.toModelRef(), BuildOptions.of("fp16-emulated", plan));
        BackendSession again =
            backend.open(m.toModelRef(), BuildOptions.of("fp16-emulated", plan))) {
      assertThat(s.buildStats().warnings())
          .singleElement()
          .asString()
          .contains("1 of 2 node(s)")
          .contains("/other/model/Sqrt_3")
          .doesNotContain(mul);
      assertThat(again.buildStats().warnings()).isEqualTo(s.buildStats().warnings());
    }
    try (BackendSession s = backend.open(m.toModelRef(), BuildOptions.of("fp16-emulated"))) {
      assertThat(s.buildStats().warnings()).isEmpty();
    }
  }
}
