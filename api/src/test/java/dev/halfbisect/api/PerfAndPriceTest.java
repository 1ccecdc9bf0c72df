package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.backend.TimingRequest;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.report.model.PerfRow;
import dev.halfbisect.report.model.PriceSection;
import dev.halfbisect.report.render.PerfTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 20: the perf table and the plan price through the facade (numbers present, not timed). */
class PerfAndPriceTest {
  @TempDir Path tmp;

  /** x[batch, 16] * 300, squared (overflows FP16), * 1e-4, + x. */
  private static HalfBisect dynamicOverflow() {
    GraphBuilder g = GraphBuilder.create("dyn_overflow", 17);
    String x = g.dynamicInput("x", DType.FLOAT32, "batch", 16);
    String scaled = g.op("Mul").in(x, g.scalar(DType.FLOAT32, 300f)).name("scale").add1();
    String sq = g.op("Pow").in(scaled, g.scalar(DType.FLOAT32, 2f)).name("square").add1();
    String shrunk = g.op("Mul").in(sq, g.scalar(DType.FLOAT32, 1e-4f)).name("shrink").add1();
    g.output(g.op("Add").in(shrunk, x).name("out_add").add1(), "out");
    return HalfBisect.model(g.build())
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .input("x:1x16:float32:-1..1");
  }

  private static final PerfOptions FAST =
      PerfOptions.defaults().withTiming(new TimingRequest(1, 3));

  @Test
  void perfHasOneRowPerPrecisionAndBatchWithUnitsAndSpeedups() throws Exception {
    PerfResult r = dynamicOverflow().perf(FAST.withBatches(List.of(1, 4)));
    // interp has fp32 and fp16-emulated: tf32 is listed as skipped, not invented
    assertThat(r.rows())
        .extracting(PerfRow::precision)
        .containsExactly("fp32", "tf32", "fp16", "fp32", "tf32", "fp16");
    PerfRow fp16b4 = r.row("fp16", 4).orElseThrow();
    assertThat(fp16b4.mode()).isEqualTo("interp:fp16-emulated");
    assertThat(fp16b4.shapes()).containsEntry("x", "4x16");
    assertThat(fp16b4.latencyMs()).isPositive();
    assertThat(fp16b4.throughput()).isEqualTo(4 * 1000.0 / fp16b4.latencyMs());
    assertThat(fp16b4.speedup())
        .isEqualTo(r.row("fp32", 4).orElseThrow().latencyMs() / fp16b4.latencyMs());
    assertThat(fp16b4.maxAbs()).isInfinite(); // the square overflows FP16
    assertThat(fp16b4.verdict()).isEqualTo("fail");
    assertThat(r.row("fp32", 1).orElseThrow().maxAbs()).isZero();
    assertThat(r.row("fp32", 1).orElseThrow().speedup()).isEqualTo(1.0);
    assertThat(r.rows().get(1).skipped()).contains("has no tf32 mode");
    assertThat(r.passed()).isFalse();
    assertThat(r.fp16Speed()).isFalse();

    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertThat(j.path("schema").asText()).isEqualTo("halfbisect/1");
    assertThat(j.path("command").asText()).isEqualTo("perf");
    assertThat(j.path("builds").asInt()).isEqualTo(4);
    assertThat(j.path("clock").asText()).contains("wall time");
    assertThat(j.path("rows").get(2).path("latencyMs").isNumber()).isTrue();
    assertThat(j.path("rows").get(2).path("p90Ms").isNumber()).isTrue();
    assertThat(r.table()).contains("latency ms", "samples/s", "speed-up", "4x16");
    assertThat(r.markdown(PerfTable.Layout.VIT))
        .contains("| precision | batch | max abs | median rel | latency ms | speed-up |");
    assertThat(r.markdown(PerfTable.Layout.SR)).contains("| width | height |");
  }

  @Test
  void aStaticBatchDimensionRefusesAnotherBatchNamingTheInput() {
    HalfBisect hb =
        HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
            .reference("interp:fp32")
            .candidate("interp:fp16-emulated");
    assertThatThrownBy(() -> hb.perf(FAST.withBatches(List.of(8))))
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining("input x of overflow.onnx has a static batch dimension of 1")
        .hasMessageContaining("batch 8");
  }

  @Test
  void aPlanPrecisionUsesThePlanFileAndUnknownPrecisionsAreRefused() throws Exception {
    Path plan = tmp.resolve("plan.json");
    Files.writeString(
        plan,
        dev.halfbisect.core.plan.PrecisionPlan.fp16Except(List.of("square", "shrink")).toJson());
    PerfResult r = dynamicOverflow().perf(FAST.withPrecisions(List.of("fp16", "plan:" + plan)));
    PerfRow planned = r.row("plan:" + plan, 1).orElseThrow();
    assertThat(planned.verdict()).isEqualTo("pass");
    assertThat(planned.maxAbs()).isFinite();
    assertThat(r.row("fp16", 1).orElseThrow().verdict()).isEqualTo("fail");
    assertThatThrownBy(() -> FAST.withPrecisions(List.of("int4")))
        .hasMessageContaining("unknown precision 'int4'");
  }

  @Test
  void precisionAndDiagnoseCarryThePriceOfThePlanUnlessSwitchedOff() throws Exception {
    PrecisionResult r = dynamicOverflow().precision();
    PriceSection p = r.report().price();
    assertThat(p).isNotNull();
    assertThat(p.fp32Ms()).isPositive();
    assertThat(p.fp16Ms()).isPositive();
    assertThat(p.planMs()).isPositive();
    assertThat(p.fp16Speed()).isFalse();
    assertThat(p.plans())
        .singleElement()
        .satisfies(
            pp -> {
              assertThat(pp.fp32Nodes()).isEqualTo(r.plan().fp32Nodes().size());
              assertThat(pp.preferred()).isTrue();
            });
    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertThat(j.path("price").path("planMs").isNumber()).isTrue();
    assertThat(dev.halfbisect.report.render.ConsoleRenderer.render(r.report()))
        .contains("Price (batch 1", "ms, plan");

    assertThat(dynamicOverflow().diagnose().report().price()).isNotNull();
    assertThat(dynamicOverflow().price(false).precision().report().price()).isNull();
  }

  /**
   * Two overflows: "hiddenSq" is squashed by Tanh (FP16's inf gives tanh = 1, as FP32's 90000 does:
   * the outputs do not need it in FP32), "square" breaks the output through "shrink".
   */
  private static HalfBisect twoOverflows(String backend) {
    GraphBuilder g = GraphBuilder.create("two_overflows", 17);
    String x = g.dynamicInput("x", DType.FLOAT32, "batch", 16);
    String a = g.op("Mul").in(x, g.scalar(DType.FLOAT32, 300f)).name("scaleA").add1();
    String hidden = g.op("Pow").in(a, g.scalar(DType.FLOAT32, 2f)).name("hiddenSq").add1();
    String t = g.op("Tanh").in(hidden).name("squash").add1();
    String b = g.op("Mul").in(x, g.scalar(DType.FLOAT32, 300f)).name("scale").add1();
    String sq = g.op("Pow").in(b, g.scalar(DType.FLOAT32, 2f)).name("square").add1();
    String shrunk = g.op("Mul").in(sq, g.scalar(DType.FLOAT32, 1e-4f)).name("shrink").add1();
    String sum = g.op("Add").in(t, shrunk).name("sum").add1();
    g.output(g.op("Add").in(sum, x).name("out_add").add1(), "out");
    return HalfBisect.model(g.build())
        .reference(backend + ":fp32")
        .candidate(backend + ":fp16-emulated")
        .input("x:1x16:float32:0.5..1");
  }

  @Test
  void onAGpuClockTheFasterOfTheOverflowPinnedAndOutputsOnlyPlansIsPreferred() {
    PrecisionResult r = twoOverflows("gpuclock").precision();
    PriceSection p = r.report().price();
    assertThat(p.fp16Speed()).isTrue();
    assertThat(p.plans())
        .extracting(PriceSection.PlanPrice::name)
        .containsExactly("overflow-pinned", "outputs-only");
    PriceSection.PlanPrice pinned = p.plans().get(0);
    PriceSection.PlanPrice outputsOnly = p.plans().get(1);
    assertThat(outputsOnly.fp32Nodes()).isLessThan(pinned.fp32Nodes()); // hiddenSq not pinned
    assertThat(outputsOnly.preferred()).isTrue();
    assertThat(pinned.preferred()).isFalse();
    // the gpuclock backend: FP32 10 ms, FP16 1 ms + 1 ms per FP32 node
    assertThat(p.fp32Ms()).isEqualTo(10.0);
    assertThat(p.fp16Ms()).isEqualTo(1.0);
    assertThat(p.planMs()).isEqualTo(1.0 + outputsOnly.fp32Nodes());
    assertThat(p.keptShare()).isEqualTo((10.0 - p.planMs()) / 9.0);
    // the preferred plan is the result: plan files and fp32Nodes follow it
    assertThat(r.plan().fp32Nodes()).hasSize(outputsOnly.fp32Nodes()).doesNotContain("hiddenSq");
    assertThat(r.report().fp32Nodes()).doesNotContain("hiddenSq");
    assertThat(twoOverflows("gpuclock").compare().passed()).isFalse();
  }

  @Test
  void emulationTimesNeverChooseAPlan() {
    PrecisionResult r = twoOverflows("interp").precision();
    PriceSection p = r.report().price();
    assertThat(p.plans()).singleElement();
    assertThat(p.keptShare()).isNull();
    assertThat(p.note()).contains("emulation times do not choose");
    assertThat(r.plan().fp32Nodes()).contains("hiddenSq"); // the overflow-pinned plan stays
  }

  @Test
  void keptShareIsTheFractionOfTheFp16GainTheplanKeeps() {
    assertThat(PriceSection.keptShare(10, 5, 6)).isEqualTo(0.8);
    assertThat(PriceSection.keptShare(5, 5, 5)).isNull();
    PriceSection s =
        new PriceSection(
            "c", true, 1, 10, 5, 5.35, PriceSection.keptShare(10, 5, 5.35), List.of(), null);
    assertThat(s.sentence()).isEqualTo("plan keeps 93% of the FP16 speed-up");
  }
}
