package dev.halfbisect.report.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.report.SampleReports;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnalysisReportBuilderTest {
  @Test
  void toBuilderCopiesEveryField() {
    AnalysisReport r = SampleReports.diagnose();
    AnalysisReport copy = r.toBuilder().build();
    assertThat(copy).isEqualTo(r);
    assertThat(copy.toJson()).isEqualTo(r.toJson());
    AnalysisReport changed = r.toBuilder().builds(7).warnings(null).build();
    assertThat(changed.builds()).isEqualTo(7);
    assertThat(changed.warnings()).isNull();
    assertThat(changed.withBuilds(r.builds()).withWarnings(r.warnings())).isEqualTo(r);
  }

  @Test
  void nodesFillTheirAggregatesUnlessReplaced() {
    List<NodeRow> rows =
        List.of(
            NodeRow.of("a", "Pow", 0.5, 1e-3, 0.5, 500).withMotif("LayerNorm"),
            NodeRow.of("b", "Add", 1e-4, 1e-3, 1e-3, 1));
    AnalysisReport.Builder b =
        AnalysisReport.builder()
            .command("amplify")
            .model("m.onnx")
            .backend(BackendPair.of("ort:fp32", "ort:fp16-emulated"))
            .pass(false)
            .builds(2)
            .tolerance(ToleranceView.fp16Default())
            .nodes(rows);
    AnalysisReport r = b.build();
    assertThat(r.verdict()).isEqualTo("fail");
    assertThat(r.byOpType()).containsOnlyKeys("Add", "Pow");
    assertThat(r.byMotif()).containsOnlyKeys("LayerNorm");
    assertThat(b.byMotif(null).build().byMotif()).isNull();
  }

  @Test
  void aMeanThatLeavesOutInfiniteAmplificationsSaysSo() {
    // "max infx, mean 2.00x" read as if every Pow amplified 2x
    List<NodeRow> rows =
        List.of(
            NodeRow.of("p1", "Pow", 0.5, 1e-3, 0.5, Double.POSITIVE_INFINITY),
            NodeRow.of("p2", "Pow", 0.5, 1e-3, 0.5, 3),
            NodeRow.of("p3", "Pow", 0.5, 1e-3, 0.5, 1));
    AnalysisReport r =
        AnalysisReport.builder()
            .command("amplify")
            .model("m.onnx")
            .backend(BackendPair.of("ort:fp32", "ort:fp16-emulated"))
            .pass(false)
            .builds(2)
            .tolerance(ToleranceView.fp16Default())
            .nodes(rows)
            .build();
    GroupStat pow = r.byOpType().get("Pow");
    assertThat(pow.count()).isEqualTo(3);
    assertThat(pow.finiteAmplifications()).isEqualTo(2);
    assertThat(pow.meanAmplification()).isEqualTo(2.0);
    assertThat(dev.halfbisect.report.render.ConsoleRenderer.render(r))
        .contains("n=3 (mean over the 2 finite)");
    assertThat(dev.halfbisect.report.render.MarkdownRenderer.render(r)).contains("(of 2 finite)");
  }

  @Test
  void buildChecksTheHeader() {
    assertThatThrownBy(() -> AnalysisReport.builder().model("m").build())
        .hasMessageContaining("report field command");
    assertThatThrownBy(
            () ->
                AnalysisReport.builder()
                    .command("compare")
                    .model("m")
                    .backend(BackendPair.of("a", "b"))
                    .verdict("maybe")
                    .tolerance(ToleranceView.fp16Default())
                    .build())
        .hasMessageContaining("report field verdict");
  }
}
