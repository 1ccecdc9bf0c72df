package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.data.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DipAndReduceTest {

  /**
   * Overflow at "blowup", healed by Tanh saturation ("heal"), then a second overflow at "blowup2".
   */
  static ModelGraph dip() {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, 16);
    String pre = t.node("Mul", "pre", "x", t.scalar(1f));
    String up = t.node("Mul", "blowup", pre, t.scalar(1e5f));
    String heal = t.node("Tanh", "heal", up);
    String add = t.node("Add", "add", heal, t.scalar(0.5f));
    String up2 = t.node("Mul", "blowup2", add, t.scalar(5e4f));
    String down = t.node("Div", "down", up2, t.scalar(5e4f));
    t.output(t.node("Identity", "out", down));
    return t.graph("dip");
  }

  @Test
  void errorThatHealsDoesNotMisleadTheSearch() {
    InterpreterBackend b = new InterpreterBackend();
    ModelGraph g = dip();
    BisectContext ctx =
        TestModels.context(g, b, List.of(TestModels.sample(5, 0.5f, 1f, "x", 1, 16))).build();
    Layerwise.Result lw = Layerwise.run(ctx);
    assertThat(lw.firstFailing().get().node()).isEqualTo("blowup");
    assertThat(lw.tensors().stream().filter(r -> r.node().equals("heal")).findFirst().get().pass())
        .isTrue();

    FirstDivergence.Result r = FirstDivergence.search(ctx);
    // The boundary that breaks the output: blowup2 fails while its input (healed) passes.
    assertThat(r.divergence().get().node()).isEqualTo("blowup2");
    assertThat(r.divergence().get().inputErrors()).singleElement().matches(TensorComparison::pass);
    assertThat(r.steps()).anyMatch(s -> s.tensor().equals("heal") && s.pass());
    assertThat(r.candidateBuilds())
        .isLessThanOrEqualTo(FirstDivergence.ceilLog2(g.floatNodes().size()) + 1);
  }

  /**
   * Two branches; the overflowing one comes first in topological order, the healthy one between.
   */
  static ModelGraph branches() {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, 16);
    String a = t.node("Mul", "a_blowup", "x", t.scalar(1e5f));
    String b = t.node("Mul", "b_half", "x", t.scalar(0.5f));
    String c = t.node("Add", "join", a, b);
    t.output(t.node("Div", "out", c, t.scalar(1e5f)));
    return t.graph("branches");
  }

  @Test
  void refinementMovesFromBoundaryToOriginAtACost() {
    ModelGraph g = branches();
    int bound = FirstDivergence.ceilLog2(g.floatNodes().size()) + 1;
    InterpreterBackend plain = new InterpreterBackend();
    FirstDivergence.Result boundary =
        FirstDivergence.search(
            TestModels.context(g, plain, List.of(TestModels.sample(3, 0.5f, 1f, "x", 1, 16)))
                .build(),
            false);
    assertThat(boundary.divergence().get().node()).isEqualTo("join");
    assertThat(boundary.divergence().get().inputErrors()).anyMatch(e -> !e.pass());
    assertThat(plain.fp16Builds()).isLessThanOrEqualTo(bound);

    // The default refines only within the bound: here the origin needs one build more, so it stops.
    InterpreterBackend bounded = new InterpreterBackend();
    FirstDivergence.Result cut =
        FirstDivergence.search(
            TestModels.context(g, bounded, List.of(TestModels.sample(3, 0.5f, 1f, "x", 1, 16)))
                .build());
    assertThat(cut.divergence().get().node()).isEqualTo("join");
    assertThat(cut.refinementCutShort()).isTrue();
    assertThat(bounded.fp16Builds()).isEqualTo(cut.candidateBuilds()).isLessThanOrEqualTo(bound);
    assertThat(boundary.refinementCutShort()).isFalse();

    InterpreterBackend refined = new InterpreterBackend();
    FirstDivergence.Result origin =
        FirstDivergence.search(
            TestModels.context(g, refined, List.of(TestModels.sample(3, 0.5f, 1f, "x", 1, 16)))
                .build(),
            FirstDivergence.Refinement.UNBOUNDED);
    assertThat(origin.divergence().get().node()).isEqualTo("a_blowup");
    assertThat(origin.divergence().get().inputErrors()).isEmpty(); // reads only the graph input
    assertThat(origin.refinementCutShort()).isFalse();
    assertThat(refined.fp16Builds()).isEqualTo(plain.fp16Builds() + 1).isGreaterThan(bound);
  }

  /**
   * A tolerance so tight that FP16 rounding fails every tensor: the boundary's inputs keep failing,
   * so unbounded refinement walks down the graph. The default still counts at most ceil(log2 N) + 1
   * candidate builds, on the 12-block planted transformer and on the graph whose error dips.
   */
  @Test
  void defaultSearchHonoursTheBuildBoundWhereRefinementWouldNot() {
    for (ModelGraph g : List.of(TestModels.transformer(12, 7), dip())) {
      List<java.util.Map<String, dev.halfbisect.core.Tensor>> samples =
          g.name().startsWith("dip")
              ? List.of(TestModels.sample(5, 0.5f, 1f, "x", 1, 16))
              : TestModels.transformerSamples(1);
      int bound = FirstDivergence.ceilLog2(g.floatNodes().size()) + 1;
      InterpreterBackend b = new InterpreterBackend();
      FirstDivergence.Result r =
          FirstDivergence.search(
              TestModels.context(g, b, samples)
                  .tolerance(dev.halfbisect.core.verdict.Tolerance.normalized(1e-9))
                  .build());
      assertThat(b.fp16Builds())
          .as(g.name())
          .isEqualTo(r.candidateBuilds())
          .isLessThanOrEqualTo(bound);
      assertThat(r.buildBound()).isEqualTo(bound);
      assertThat(r.divergence().get().outputError().pass()).isFalse();

      InterpreterBackend u = new InterpreterBackend();
      FirstDivergence.Result all =
          FirstDivergence.search(
              TestModels.context(g, u, samples)
                  .tolerance(dev.halfbisect.core.verdict.Tolerance.normalized(1e-9))
                  .build(),
              FirstDivergence.Refinement.UNBOUNDED);
      assertThat(all.divergence().get().inputErrors())
          .as(g.name())
          .allMatch(TensorComparison::pass);
      assertThat(all.refinementCutShort()).isFalse();
      if (u.fp16Builds() > bound) {
        assertThat(r.refinementCutShort()).as(g.name()).isTrue();
      }
    }
  }

  @Test
  void crashingProbesCountAsFailuresAndTheSearchGoesOn() {
    InterpreterBackend b = new InterpreterBackend();
    ModelGraph g = TestModels.transformer(12, 7);
    b.crashWhenPresent("b1/ln/pow");
    FirstDivergence.Result r =
        FirstDivergence.search(TestModels.context(g, b, TestModels.transformerSamples(1)).build());
    assertThat(r.steps()).anyMatch(s -> s.status() == ProbeResult.Status.CRASH);
    assertThat(r.divergence().get().node()).isEqualTo("b1/ln/pow");
    assertThat(r.candidateBuilds()).isLessThanOrEqualTo(r.buildBound());
  }

  @Test
  void reduceWritesSingleNodeReproWithGoldenInputs(@TempDir Path dir) throws Exception {
    InterpreterBackend b = new InterpreterBackend();
    ModelGraph g = TestModels.transformer(6, 4);
    BisectContext ctx = TestModels.context(g, b, TestModels.transformerSamples(2)).build();
    Reduce.Result r = Reduce.run(ctx, dir);
    assertThat(r.failing()).isTrue();
    assertThat(r.nodes()).containsExactly(TestModels.plantUp(4));
    assertThat(r.inputs()).containsExactly("b4/residual");
    assertThat(r.error().get().pass()).isFalse();

    ModelGraph reduced =
        ModelGraph.of(
            dev.halfbisect.onnx.proto.Onnx.ModelProto.parseFrom(
                Files.readAllBytes(r.model().get())),
            null,
            "reduced");
    assertThat(reduced.nodes()).hasSize(1);
    assertThat(reduced.graphInputs()).containsExactly("b4/residual");
    assertThat(reduced.graphOutputs()).containsExactly(TestModels.plantUp(4));
    var saved = Npz.read(r.inputsNpz().get());
    var golden =
        ctx.prober().reference(List.of("b4/residual", TestModels.plantUp(4))).get(r.sample());
    assertThat(saved).containsOnlyKeys("b4/residual");
    assertThat(saved.get("b4/residual")).isEqualTo(golden.get("b4/residual"));
    assertThat(Npz.read(r.referenceNpz().get()).get(TestModels.plantUp(4)))
        .isEqualTo(golden.get(TestModels.plantUp(4)));
    // The reduced model alone, fed the saved golden input, still fails in FP16.
    BisectContext again =
        TestModels.context(
                reduced,
                new InterpreterBackend(),
                List.of(java.util.Map.of("b4/residual", saved.get("b4/residual"))))
            .build();
    assertThat(Layerwise.run(again).outputsPass()).isFalse();
  }
}
