package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npz;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.HeadroomView;
import dev.halfbisect.report.render.ConsoleRenderer;
import dev.halfbisect.report.render.HtmlRenderer;
import dev.halfbisect.report.render.MarkdownRenderer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: verdicts over a sample set (pass rates, worst sample), plans validated on held-out
 * samples, FP16 headroom. The overflow model squares 300 x: x = 0.5 gives 22500 (passes), x = 0.9
 * gives 72900 (overflows FP16).
 */
class PlansThatHoldTest {
  @TempDir Path tmp;

  private static HalfBisect overflow() {
    return HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated");
  }

  /** Samples with x constant at each value, one .npz each, in a folder (name order). */
  private Path set(float... xs) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("set"));
    for (int i = 0; i < xs.length; i++) {
      float[] v = new float[16];
      Arrays.fill(v, xs[i]);
      Npz.write(dir.resolve("s" + i + ".npz"), Map.of("x", Tensor.ofFloats(new long[] {1, 16}, v)));
    }
    return dir;
  }

  @Test
  void compareReportsThePassRateAndTheWorstSample() throws Exception {
    CompareResult r = overflow().loadInputs(List.of(set(0.1f, 0.9f, 0.2f)), false).compare();
    AnalysisReport rep = r.report();
    assertThat(rep.samples().count()).isEqualTo(3);
    assertThat(rep.samples().passed()).isEqualTo(2);
    assertThat(rep.samples().worstSample()).isEqualTo(1);
    assertThat(rep.samples().outputs().get(0).tensor()).isEqualTo("out");
    JsonNode j = new ObjectMapper().readTree(rep.toJson());
    assertThat(j.at("/samples/passed").asInt()).isEqualTo(2);
    assertThat(j.at("/samples/outputs/0/worstSample").asInt()).isEqualTo(1);
    assertThat(AnalysisReport.fromJson(rep.toJson())).isEqualTo(rep);
    assertThat(ConsoleRenderer.render(rep))
        .contains("outputs pass on 2 of 3 samples", "worst: sample 1");
    assertThat(MarkdownRenderer.render(rep))
        .contains("## Samples", "out: 2/3 pass, worst sample 1");
    assertThat(HtmlRenderer.render(rep)).contains("<h2 id=\"samples\">Samples</h2>");
  }

  @Test
  void precisionValidatesItsPlanOnHeldOutSamplesAndSaysWhenItFails() throws Exception {
    // 4 samples: the default holds out the last one; the first three pass all-FP16
    PrecisionResult r =
        overflow().loadInputs(List.of(set(0.1f, 0.2f, 0.3f, 0.9f)), false).precision();
    AnalysisReport rep = r.report();
    assertThat(r.plan().fp32Nodes()).isEmpty();
    assertThat(rep.search().searchSamples()).isEqualTo(3);
    assertThat(rep.search().holdout().count()).isEqualTo(1);
    assertThat(rep.search().holdout().passed()).isZero();
    assertThat(rep.passed()).as("a plan that fails held-out samples is no fix").isFalse();
    assertThat(rep.warnings())
        .anySatisfy(
            w -> assertThat(w).contains("FAILS on 1 of the 1 held-out samples", "worst: sample 3"));
    assertThat(ConsoleRenderer.render(rep)).contains("FAILS on held-out samples: 0 of 1 pass");

    // searched on all four (no holdout): the plan pins the overflowing Pow and holds
    PrecisionResult all =
        overflow().loadInputs(List.of(set(0.1f, 0.2f, 0.3f, 0.9f)), false).holdout(0).precision();
    assertThat(all.plan().fp32Nodes()).contains("square");
    assertThat(all.report().search().holdout()).isNull();
    assertThat(all.report().search().stopReason()).isNotBlank();
    assertThat(all.report().search().maxBuilds()).isEqualTo(60);

    // held out and holding: 0.9 searched on, 0.1 held out
    PrecisionResult holds =
        overflow().loadInputs(List.of(set(0.9f, 0.2f, 0.3f, 0.1f)), false).precision();
    assertThat(holds.report().search().holdsOnHoldout()).isTrue();
    assertThat(holds.report().passed()).isTrue();
    assertThat(holds.report().warnings())
        .anySatisfy(
            w -> assertThat(w).contains("searched on 3 samples and holds on the 1 held-out"));
  }

  @Test
  void headroomListsTensorsNearTheFp16MaximumWithTheirLocation() throws Exception {
    // x = 0.7 squares to 44100 (67% of 65504); position 5 pinned to 0.8 squares to 57600 (88%)
    LayerwiseResult r = overflow().input("x:1x16:float32:0.7,@5=0.8").samples(2).layerwise();
    AnalysisReport rep = r.report();
    assertThat(rep.passed()).isTrue();
    HeadroomView h = rep.headroom();
    assertThat(h.share()).isEqualTo(0.5);
    assertThat(h.atRisk())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.tensor()).isEqualTo("squared");
              assertThat(a.node()).isEqualTo("square");
              assertThat(a.index()).containsExactly(0L, 5L);
              assertThat(a.shape()).containsExactly(1L, 16L);
              assertThat(a.refMaxAbs()).isCloseTo(57600, org.assertj.core.data.Offset.offset(20.0));
              assertThat(a.margin())
                  .isCloseTo(65504 - 57600, org.assertj.core.data.Offset.offset(20.0));
              assertThat(a.verdict()).isEqualTo("pass");
            });
    assertThat(ConsoleRenderer.render(rep))
        .contains("FP16 headroom", "squared (square, Pow)", "sample 0 at [0, 5] of");
    assertThat(AnalysisReport.fromJson(rep.toJson())).isEqualTo(rep);

    // a higher share leaves it out; the block then says none reaches it
    AnalysisReport high =
        overflow().input("x:1x16:float32:0.7,@5=0.8").headroom(0.9).layerwise().report();
    assertThat(high.headroom().atRisk()).isEmpty();
    assertThat(MarkdownRenderer.render(high))
        .contains("no observed tensor's reference magnitude reaches 90.0% of 65504");
  }

  @Test
  void aGraphInputBeyondFp16IsAtRiskAndTheFirstRootCause() throws Exception {
    // x = 70000 is beyond 65504 before any node computes: FP16 cannot hold the input itself
    AnalysisReport rep = overflow().input("x:1x16:float32:70000").compare().report();
    assertThat(rep.passed()).isFalse();
    HeadroomView.AtRisk in = rep.headroom().atRisk().get(0);
    assertThat(in.tensor()).isEqualTo("x");
    assertThat(in.node()).isEqualTo("graph input");
    assertThat(in.opType()).isEqualTo("Input");
    assertThat(in.refMaxAbs()).isEqualTo(70000);
    assertThat(in.verdict()).isEqualTo("fail");
    assertThat(rep.rootCauses().get(0).node()).isEqualTo("x");
    assertThat(rep.rootCauses().get(0).cause())
        .isEqualTo(dev.halfbisect.report.model.RootCause.Cause.OVERFLOW);
    assertThat(rep.rootCauses().get(0).evidence())
        .contains("graph input x reaches |x| = 7.00e+04 (> 65504");
    assertThat(rep.rootCauses()).extracting(r -> r.node()).containsOnlyOnce("x");
    assertThat(ConsoleRenderer.render(rep)).contains("[overflow] x (Input)");
    assertThat(AnalysisReport.fromJson(rep.toJson())).isEqualTo(rep);

    // within range but over the share: listed, passing, and no root cause of its own
    AnalysisReport near = overflow().input("x:1x16:float32:40000").headroom(0.5).compare().report();
    assertThat(near.headroom().atRisk().get(0).tensor()).isEqualTo("x");
    assertThat(near.headroom().atRisk().get(0).verdict()).isEqualTo("pass");
    assertThat(near.rootCauses()).extracting(r -> r.node()).doesNotContain("x");
  }
}
