package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrecisionSearchTest {
  private static final ModelGraph PLANTED = TestModels.transformer(12, 5);
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(2);

  @Test
  void findsOneMinimalPlanContainingPlantedNodes(@TempDir Path dir) throws Exception {
    InterpreterBackend b = new InterpreterBackend();
    PrecisionSearch.Result r = PrecisionSearch.run(TestModels.context(PLANTED, b, SAMPLES).build());
    assertThat(r.found()).isTrue();
    assertThat(r.fp32Nodes()).contains(TestModels.plantUp(5), TestModels.plantDown(5));
    assertThat(r.outputErrors().values()).isNotEmpty().allMatch(TensorComparison::pass);
    assertThat(r.totalBuilds()).isEqualTo(b.fp16Builds());
    assertThat(r.searchBuilds()).isLessThanOrEqualTo(8);
    int floatNodes = PLANTED.floatNodes().size();
    assertThat(r.fp16Fraction())
        .isEqualTo((double) (floatNodes - r.fp32Nodes().size()) / floatNodes);
    assertThat(r.trtexecFlags())
        .contains("--layerPrecisions=")
        .contains(TestModels.plantUp(5) + ":fp32");
    assertThat(PrecisionPlan.fromJson(r.planJson())).isEqualTo(r.plan());

    // Independent check of the plan and of 1-minimality, on a fresh backend and context.
    assertThat(passes(r.plan())).isTrue();
    for (String n : r.fp32Nodes()) {
      List<String> less = new ArrayList<>(r.fp32Nodes());
      less.remove(n);
      assertThat(passes(PrecisionPlan.fp16Except(less))).as("without %s", n).isFalse();
    }
    assertThat(r.writeArtifacts(dir, PLANTED)).isEmpty();
    assertThat(PrecisionPlan.read(dir.resolve("plan.json"))).isEqualTo(r.plan());
    Onnx.ModelProto fp16 =
        Onnx.ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model-fp16.onnx")));
    assertThat(fp16.getGraph().getNodeList())
        .anyMatch(n -> n.getName().equals(TestModels.plantUp(5)));
    assertThat(fp16.getGraph().getInitializerList())
        .anyMatch(t -> t.getDataType() == 10); // FP16 weights
    assertThat(fp16.getGraph().getNodeList()).anyMatch(n -> n.getOpType().equals("Cast"));
    assertThat(Files.readString(dir.resolve("trtexec-flags.txt")))
        .startsWith("--fp16 --noTF32 --precisionConstraints=obey");
  }

  @Test
  void overflowingNodesArePinnedUpFrontAndTheRestIsSearched() {
    InterpreterBackend b = new InterpreterBackend();
    PrecisionSearch.Result r = PrecisionSearch.run(TestModels.context(PLANTED, b, SAMPLES).build());
    // The scale-up overflows FP16 by itself; the divide gets its (golden, too large) input cast to
    // inf.
    assertThat(r.overflowNodes()).containsExactly(TestModels.plantUp(5), TestModels.plantDown(5));
    assertThat(r.fp32Nodes()).containsAll(r.overflowNodes());
    assertThat(r.steps().get(0).phase()).isEqualTo("overflow");

    InterpreterBackend b2 = new InterpreterBackend();
    PrecisionSearch.Result plain =
        PrecisionSearch.run(
            TestModels.context(PLANTED, b2, SAMPLES).build(),
            PrecisionSearch.Options.defaults().withPinOverflows(false));
    assertThat(plain.overflowNodes()).isEmpty();
    assertThat(plain.fp32Nodes()).contains(TestModels.plantUp(5), TestModels.plantDown(5));
    assertThat(plain.steps().get(0).phase()).isEqualTo("baseline");
    assertThat(r.searchBuilds())
        .as("pinning the overflow first shortens the search")
        .isLessThan(plain.searchBuilds());
  }

  @Test
  void overflowHiddenByToleranceIsStillPinned() {
    // y = x + 1 / (x * 1e5): the product overflows FP16 (x >= 1), 1/inf = 0 in FP16, and the lost
    // term (about 1e-5) is far below the output tolerance, so the outputs pass all-FP16.
    TinyGraph t = new TinyGraph();
    t.input("x", 1, TestModels.SEQ, TestModels.HIDDEN);
    String big = t.node("Mul", "hidden/scale", "x", t.scalar(1e5f));
    String inv = t.node("Div", "hidden/inverse", t.scalar(1f), big);
    t.output(t.node("Add", "hidden/add", "x", inv));
    ModelGraph g = t.graph("hidden-overflow");
    List<Map<String, Tensor>> samples = List.of(Map.of("x", positive()));

    PrecisionSearch.Result r =
        PrecisionSearch.run(TestModels.context(g, new InterpreterBackend(), samples).build());
    assertThat(r.overflowNodes()).containsExactly("hidden/scale");
    assertThat(r.fp32Nodes()).containsExactly("hidden/scale");
    assertThat(r.oneMinimal()).isTrue();

    PrecisionSearch.Result allowed =
        PrecisionSearch.run(
            TestModels.context(g, new InterpreterBackend(), samples).build(),
            PrecisionSearch.Options.defaults().withPinOverflows(false));
    assertThat(allowed.fp32Nodes()).isEmpty();
  }

  private static Tensor positive() {
    int n = TestModels.SEQ * TestModels.HIDDEN;
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = 1f + (i % 7);
    }
    return Tensor.ofFloats(new long[] {1, TestModels.SEQ, TestModels.HIDDEN}, v);
  }

  @Test
  void healthyModelNeedsNoPins() {
    InterpreterBackend b = new InterpreterBackend();
    PrecisionSearch.Result r =
        PrecisionSearch.run(TestModels.context(TestModels.transformer(4, -1), b, SAMPLES).build());
    assertThat(r.found()).isTrue();
    assertThat(r.fp32Nodes()).isEmpty();
    assertThat(r.fp16Fraction()).isEqualTo(1.0);
    assertThat(r.trtexecFlags()).isEqualTo("--fp16 --noTF32");
  }

  @Test
  void resumedSearchMakesNoDuplicateBuilds(@TempDir Path dir) throws Exception {
    Path journalFile = dir.resolve("probes.jsonl");
    PrecisionSearch.Result first;
    FirstDivergence.Result firstBisect;
    InterpreterBackend b1 = new InterpreterBackend();
    try (ProbeJournal j = ProbeJournal.open(journalFile)) {
      BisectContext ctx = TestModels.context(PLANTED, b1, SAMPLES).journal(j).build();
      first = PrecisionSearch.run(ctx);
      firstBisect = FirstDivergence.search(ctx);
    }
    assertThat(b1.fp16Builds()).isGreaterThan(0);
    InterpreterBackend b2 = new InterpreterBackend();
    try (ProbeJournal j = ProbeJournal.open(journalFile)) {
      assertThat(j.size()).isEqualTo(b1.fp16Builds());
      BisectContext ctx = TestModels.context(PLANTED, b2, SAMPLES).journal(j).build();
      PrecisionSearch.Result again = PrecisionSearch.run(ctx);
      FirstDivergence.Result againBisect = FirstDivergence.search(ctx);
      assertThat(b2.fp16Builds()).isZero();
      assertThat(again.fp32Nodes()).isEqualTo(first.fp32Nodes());
      assertThat(again.totalBuilds()).isZero();
      assertThat(againBisect.divergence()).isEqualTo(firstBisect.divergence());
      assertThat(ctx.prober().journalHits()).isGreaterThan(0);
    }
  }

  private static boolean passes(PrecisionPlan plan) {
    InterpreterBackend b = new InterpreterBackend();
    BisectContext ctx = TestModels.context(PLANTED, b, SAMPLES).build();
    ProbeResult r =
        ctx.prober().probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, plan, PLANTED.graphOutputs()));
    return r.passes();
  }
}
