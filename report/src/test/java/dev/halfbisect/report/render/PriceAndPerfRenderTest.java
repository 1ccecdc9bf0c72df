package dev.halfbisect.report.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.report.SampleReports;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.PerfReport;
import dev.halfbisect.report.model.PerfRow;
import dev.halfbisect.report.model.PriceSection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 20: the price block in every format, its JSON round trip, and the perf table layouts. */
class PriceAndPerfRenderTest {
  private static final PriceSection PRICE =
      new PriceSection(
          "GPU time per inference (CUDA events)",
          true,
          8,
          2.0,
          1.0,
          1.25,
          PriceSection.keptShare(2.0, 1.0, 1.25),
          List.of(
              new PriceSection.PlanPrice("overflow-pinned", 12, 1.4, false),
              new PriceSection.PlanPrice("outputs-only", 3, 1.25, true)),
          "the outputs-only plan is faster");

  @Test
  void priceBlockRendersInConsoleMarkdownHtmlAndSurvivesJson() {
    AnalysisReport r = SampleReports.diagnose().withPrice(PRICE);
    assertThat(ConsoleRenderer.render(r))
        .contains(
            "Price (batch 8, GPU time per inference (CUDA events)): FP32 2.00 ms, FP16 1.00"
                + " ms, plan 1.25 ms: plan keeps 75% of the FP16 speed-up")
        .contains("* outputs-only: 3 FP32 nodes, 1.25 ms");
    assertThat(MarkdownRenderer.render(r))
        .contains("## Price of the plan")
        .contains("| outputs-only | 3 | 1.25 | yes |");
    assertThat(HtmlRenderer.render(r)).contains("<h2>Price of the plan</h2>");
    AnalysisReport back = AnalysisReport.fromJson(r.toJson());
    assertThat(back.price()).isEqualTo(PRICE);
    assertThat(back.toJson()).isEqualTo(r.toJson());
    assertThat(r.toJson()).contains("\"keptShare\": 0.75");
  }

  @Test
  void emulationPricesGiveNoShare() {
    PriceSection cpu =
        new PriceSection(
            "CPU emulation time, not FP16 speed", false, 1, 2, 1, 1.5, null, List.of(), null);
    assertThat(cpu.sentence()).contains("needs a GPU backend");
  }

  @Test
  void perfLayoutsShowTheirColumnsAndSkippedRowsAsNotes() {
    Map<String, String> shapes = Map.of("lr_image", "8x3x96x128");
    PerfRow fp32 =
        new PerfRow(
                "fp32",
                "trt:fp32",
                8,
                shapes,
                4.0,
                4.2,
                2000.0,
                null,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                "pass",
                null)
            .withSpeedup(4.0);
    PerfRow fp16 =
        new PerfRow(
                "fp16",
                "trt:fp16",
                8,
                shapes,
                1.0,
                1.1,
                8000.0,
                null,
                1e-3,
                1e-4,
                2e-4,
                0.5,
                1e-3,
                2e-3,
                "pass",
                null)
            .withSpeedup(4.0);
    PerfReport r =
        new PerfReport(
            "halfbisect/1",
            "perf",
            "sr.onnx",
            BackendPair.of("trt:fp32", "trt"),
            "pass",
            2,
            "GPU time per inference (CUDA events)",
            true,
            5,
            20,
            List.of(fp32, PerfRow.skipped("bf16", 8, shapes, "backend trt has no bf16 mode"), fp16),
            null);
    assertThat(fp16.speedup()).isEqualTo(4.0);
    String sr = PerfTable.console(r, PerfTable.Layout.SR);
    assertThat(sr)
        .containsPattern("precision +batch +width +height +latency ms +samples/s")
        .containsPattern("fp16 +8 +128 +96 +1.00 +8000")
        .contains("note: bf16 at batch 8 not measured: backend trt has no bf16 mode")
        .doesNotContain("not FP16 speed");
    assertThat(PerfTable.markdown(r, PerfTable.Layout.VIT))
        .contains("| fp16 | 8 | 1.00e-03 | 1.00e-03 | 1.00 | 4.00x |");
    assertThat(r.toJson()).contains("\"skipped\": \"backend trt has no bf16 mode\"");
  }
}
