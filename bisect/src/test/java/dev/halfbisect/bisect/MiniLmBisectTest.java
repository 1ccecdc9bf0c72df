package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every strategy end to end on the real all-MiniLM-L6-v2 (the project's ORT backend: {@code
 * ort:fp32} reference, {@code ort:fp16-emulated} candidate), one context for the class so the
 * reference runs once, as in a full diagnosis. MiniLM passes the default FP16 tolerance, so the
 * searches run against a tolerance of 0.9 times its all-FP16 output error, to have something to
 * find. Times are printed for docs/PERFORMANCE.md, not asserted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MiniLmBisectTest {
  private static final int SEQ = 32;
  private static double outputError;

  @TempDir static Path dir;
  private static OnnxModel model;
  private static Backend ort;
  private static BisectContext ctx;
  private static BisectContext plain;
  private static final List<String> timings = new ArrayList<>();

  @BeforeAll
  static void load() throws Exception {
    model = OnnxModel.load(MiniLmModel.copyTo(dir));
    Map<String, Tensor> sample = MiniLmModel.sample(SEQ, new Random(11)::nextInt);
    ort = Backends.get("ort"); // never named in main code: the SPI finds it
    assertThat(ort.availability().available()).as(ort.availability().reason()).isTrue();
    plain =
        BisectContext.builder(
                model, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
            .samples(List.of(sample))
            .build();
    String out = plain.model().graphOutputs().get(0);
    ProbeResult all =
        plain
            .prober()
            .probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, PrecisionPlan.allFp16(), List.of(out)));
    assertThat(all.passes()).as("MiniLM passes the default FP16 tolerance").isTrue();
    outputError = all.tensor(out).get().normalizedError();
    System.out.println("[MiniLM bisect] all-FP16 output normalized error " + outputError);
    ctx =
        BisectContext.builder(
                model, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
            .samples(List.of(sample))
            .tolerance(Tolerance.normalized(0.9 * outputError))
            .chunkSize(128)
            .build();
  }

  private static long timed(String what, long t0, int builds) {
    long ms = (System.nanoTime() - t0) / 1_000_000;
    String line = String.format("%-22s %6d ms  %3d candidate builds", what, ms, builds);
    timings.add(line);
    System.out.println("[MiniLM bisect] " + line);
    return ms;
  }

  @Test
  @Order(1)
  void motifsOfMiniLm() {
    List<Motifs.Motif> motifs = Motifs.detect(ctx.model());
    assertThat(motifs.stream().filter(m -> m.kind() == Motifs.Kind.LAYER_NORM)).hasSize(13);
    assertThat(motifs.stream().filter(m -> m.kind() == Motifs.Kind.GELU)).hasSize(6);
    assertThat(motifs.stream().filter(m -> m.kind() == Motifs.Kind.ATTENTION_SOFTMAX)).hasSize(6);
    assertThat(motifs.stream().filter(m -> m.kind() == Motifs.Kind.RESIDUAL_ADD)).hasSize(12);
  }

  @Test
  @Order(2)
  void layerwise() {
    long t0 = System.nanoTime();
    Layerwise.Result r = Layerwise.run(ctx);
    timed("layerwise", t0, r.candidateBuilds());
    assertThat(r.unobserved()).isEmpty();
    assertThat(r.tensors()).hasSize(ctx.model().floatTensors().size());
    assertThat(r.candidateBuilds()).isEqualTo((ctx.model().floatTensors().size() + 127) / 128);
    assertThat(r.firstFailing()).isPresent();
    assertThat(ctx.model().isConstant(r.firstFailing().get().tensor())).isFalse();
    assertThat(r.outputsPass()).isFalse();
    assertThat(r.tensors().stream().filter(t -> ctx.model().graphOutputs().contains(t.tensor())))
        .singleElement()
        .matches(t -> t.error().normalizedError() == outputError);
  }

  @Test
  @Order(2)
  void layerwisePassesByDefaultAndListsTheMaskConstant() {
    long t0 = System.nanoTime();
    Layerwise.Result r = Layerwise.run(plain);
    timed("layerwise (default tol)", t0, r.candidateBuilds());
    // The attention-mask fill -3.4028235e38 (clamped to -65504 in FP16) is a constant, not an
    // error.
    assertThat(r.verdict()).isEqualTo("pass");
    assertThat(r.firstFailing()).isEmpty();
    assertThat(r.constants())
        .extracting(Layerwise.UnrepresentableConstant::tensor)
        .contains("/Constant_1_output_0");
    assertThat(r.constants())
        .filteredOn(c -> c.node().equals("/Constant_1"))
        .singleElement()
        .matches(c -> c.referenceMaxAbs() > 3e38 && c.reason().contains("65504"));
  }

  @Test
  @Order(3)
  void firstDivergence() {
    long t0 = System.nanoTime();
    FirstDivergence.Result r = FirstDivergence.search(ctx);
    timed("bisect", t0, r.candidateBuilds());
    assertThat(r.divergence()).isPresent();
    assertThat(r.divergence().get().outputError().pass()).isFalse();
    assertThat(r.candidateBuilds()).isLessThanOrEqualTo(r.buildBound());
    assertThat(ctx.model().isConstant(r.divergence().get().tensor())).isFalse();
    if (!r.refinementCutShort()) {
      assertThat(r.divergence().get().inputErrors()).allMatch(TensorComparison::pass);
    }
    System.out.println(
        "[MiniLM bisect] bound "
            + r.buildBound()
            + ", refinement cut short "
            + r.refinementCutShort());
    // At 0.7x the output error the former always-refining default made 20 builds; the default keeps
    // the bound.
    BisectContext tight =
        BisectContext.builder(
                model, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
            .samples(plain.samples())
            .tolerance(Tolerance.normalized(0.7 * outputError))
            .chunkSize(128)
            .build();
    t0 = System.nanoTime();
    FirstDivergence.Result t = FirstDivergence.search(tight);
    timed("bisect (0.7x tol)", t0, t.candidateBuilds());
    assertThat(t.candidateBuilds()).isLessThanOrEqualTo(t.buildBound());
    assertThat(t.divergence().get().outputError().pass()).isFalse();
    System.out.println(
        "[MiniLM bisect] 0.7x: "
            + t.divergence().get().node()
            + ", cut short "
            + t.refinementCutShort());
    System.out.println(
        "[MiniLM bisect] first divergence "
            + r.divergence().get().node()
            + " ("
            + r.divergence().get().opType()
            + ") error "
            + r.divergence().get().outputError().normalizedError());
  }

  @Test
  @Order(4)
  void amplification() {
    long t0 = System.nanoTime();
    Amplification.Result r = Amplification.analyze(ctx);
    timed("amplify", t0, r.candidateBuilds());
    assertThat(r.shadowBuilds()).isEqualTo(1);
    // only Constant nodes go unmeasured: TensorRT folds them (issue 15)
    assertThat(r.unmeasured().values()).containsOnly(Amplification.FOLDED_BY_TENSORRT);
    assertThat(r.nodes())
        .allMatch(
            n -> n.method() == Amplification.Method.SHADOW || r.unmeasured().containsKey(n.node()));
    // the attention-mask Mul (-3.4e38 fill, clamped by TensorRT) is no overflow in the shadow
    assertThat(r.node("/Mul").orElseThrow().localError()).isFinite();
    assertThat(r.motifs()).isNotEmpty();
    System.out.println(
        "[MiniLM bisect] top motifs "
            + r.motifs().subList(0, 3).stream()
                .map(
                    m ->
                        m.motif().id()
                            + " local="
                            + m.maxLocalError()
                            + " amp="
                            + m.amplification())
                .toList());
  }

  @Test
  @Order(5)
  void precisionSearch() throws Exception {
    long t0 = System.nanoTime();
    PrecisionSearch.Result r = PrecisionSearch.run(ctx, 150);
    timed("precision", t0, r.totalBuilds());
    assertThat(r.found()).isTrue();
    assertThat(r.oneMinimal()).as("1-minimal within the budget").isTrue();
    assertThat(r.outputErrors().values()).allMatch(TensorComparison::pass);
    assertThat(r.fp16Fraction()).isGreaterThan(0.5);
    System.out.println(
        "[MiniLM bisect] precision pinned "
            + r.fp32Nodes().size()
            + " nodes "
            + r.fp32Nodes()
            + ", fp16 fraction "
            + r.fp16Fraction()
            + ", search builds "
            + r.searchBuilds()
            + ", 1-minimal "
            + r.oneMinimal());
    r.writeArtifacts(dir.resolve("precision"));
    assertThat(PrecisionPlan.read(dir.resolve("precision/plan.json"))).isEqualTo(r.plan());
  }

  @Test
  @Order(6)
  void reduce() throws Exception {
    long t0 = System.nanoTime();
    Reduce.Result r = Reduce.run(ctx, dir.resolve("reduce"));
    timed("reduce", t0, r.candidateBuilds());
    assertThat(r.failing()).isTrue();
    assertThat(Files.size(r.model().get()))
        .isLessThan(Files.size(dir.resolve(MiniLmModel.FILE_NAME)));
    assertThat(r.inputsNpz().get()).exists();
    System.out.println(
        "[MiniLM bisect] reduced to " + r.nodes().size() + " nodes, inputs " + r.inputs());
    System.out.println(
        "[MiniLM bisect] total candidate builds "
            + ctx.prober().candidateBuilds()
            + ", reference builds "
            + ctx.prober().referenceBuilds());
  }
}
