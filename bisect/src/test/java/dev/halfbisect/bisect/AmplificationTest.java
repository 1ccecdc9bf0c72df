package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AmplificationTest {

  /** MatMul+bias, LayerNorm, shift into GELU's flat negative tail, GELU (Erf form). */
  static ModelGraph geluTail() {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, 4, 16);
    String mm = t.node("MatMul", "proj", "x", t.randomMatrix("W", 16, 16, 0.3f, new Random(3)));
    String lin = t.node("Add", "proj_bias", mm, t.scalar(0.01f));
    String ln = TestModels.layerNorm(t, "ln/", lin);
    String sc = t.node("Mul", "shift_scale", ln, t.scalar(0.3f));
    String sh = t.node("Add", "shift", sc, t.scalar(-3.6f));
    String g = TestModels.gelu(t, "gelu/", sh);
    t.output(t.node("Identity", "out", g));
    return t.graph("gelu-tail");
  }

  @Test
  void detectsTransformerMotifs() {
    ModelGraph g = TestModels.transformer(3, -1);
    List<Motifs.Motif> motifs = Motifs.detect(g);
    assertThat(motifs.stream().filter(m -> m.kind() == Motifs.Kind.LAYER_NORM))
        .hasSize(3)
        .allSatisfy(m -> assertThat(m.nodes()).hasSize(7));
    assertThat(motifs.stream().filter(m -> m.kind() == Motifs.Kind.GELU))
        .hasSize(3)
        .allSatisfy(m -> assertThat(m.nodes()).hasSize(5).contains(m.anchor()));
    assertThat(
            motifs.stream()
                .filter(m -> m.kind() == Motifs.Kind.RESIDUAL_ADD)
                .map(Motifs.Motif::anchor))
        .containsExactly("b0/residual", "b1/residual", "b2/residual");
    assertThat(motifs.stream().filter(m -> m.kind() == Motifs.Kind.MATMUL))
        .hasSize(3)
        .allSatisfy(m -> assertThat(m.nodes()).hasSize(2));
  }

  @Test
  void geluAmplifiesSmallUpstreamErrorAndRanksFirst() {
    InterpreterBackend b = new InterpreterBackend();
    ModelGraph g = geluTail();
    BisectContext ctx =
        TestModels.context(
                g,
                b,
                List.of(
                    TestModels.sample(1, -1, 1, "x", 1, 4, 16),
                    TestModels.sample(2, -1, 1, "x", 1, 4, 16)))
            .build();
    Amplification.Result r = Amplification.analyze(ctx);
    assertThat(r.motifs()).isNotEmpty();
    Amplification.MotifAmplification top = r.motifs().get(0);
    assertThat(top.motif().kind()).isEqualTo(Motifs.Kind.GELU);
    assertThat(top.inputError()).isGreaterThan(0).isLessThan(1e-2);
    assertThat(top.outputError()).isGreaterThan(1e-2);
    assertThat(top.amplification()).isGreaterThan(10);
    assertThat(r.ranking().get(0)).startsWith("gelu/");
    // Everything local was measured in one shadow build, plus the chunked normal run.
    assertThat(r.shadowBuilds()).isEqualTo(1);
    assertThat(r.candidateBuilds()).isEqualTo(2);
    assertThat(r.unmeasured()).isEmpty();
    assertThat(r.nodes()).allMatch(n -> n.method() == Amplification.Method.SHADOW);
    // The local error of the Erf comes from golden inputs: the erf of the tail rounds to ~-1.
    assertThat(r.node("gelu/add").get().localError()).isGreaterThan(1e-2);
    assertThat(r.node("proj").get().localError()).isLessThan(1e-2);
  }

  @Test
  void plantedOverflowHasInfiniteLocalErrorAndShadowFallsBackPerNode() {
    InterpreterBackend b = new InterpreterBackend();
    ModelGraph g = TestModels.transformer(4, 2);
    b.crashWhenPresent("b1/gelu/erf" + ProbeGraphs.SHADOW_SUFFIX);
    Amplification.Result r =
        Amplification.analyze(TestModels.context(g, b, TestModels.transformerSamples(1)).build());
    Amplification.NodeAmplification up = r.node(TestModels.plantUp(2)).orElseThrow();
    assertThat(up.localError()).isInfinite();
    assertThat(up.localPass()).isFalse();
    assertThat(up.contribution()).isInfinite();
    assertThat(r.ranking().subList(0, 2))
        .containsExactlyInAnyOrder(TestModels.plantUp(2), TestModels.plantDown(2));
    // The crashing shadow copy was isolated by splitting and measured alone instead.
    assertThat(r.node("b1/gelu/erf").get().method()).isEqualTo(Amplification.Method.SINGLE_NODE);
    assertThat(r.node("b1/gelu/erf").get().localError()).isFinite();
    assertThat(r.node("b0/gelu/erf").get().method()).isEqualTo(Amplification.Method.SHADOW);
  }
}
