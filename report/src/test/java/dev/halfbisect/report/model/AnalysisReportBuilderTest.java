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
