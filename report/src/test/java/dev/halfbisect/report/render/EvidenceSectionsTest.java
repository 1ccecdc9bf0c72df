package dev.halfbisect.report.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.HeadroomView;
import dev.halfbisect.report.model.OutputPassRate;
import dev.halfbisect.report.model.SampleSummary;
import dev.halfbisect.report.model.SearchView;
import dev.halfbisect.report.model.ToleranceView;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 15: the sample, search and headroom blocks in every format, escaped, round-tripped. */
class EvidenceSectionsTest {
  private static AnalysisReport report() {
    OutputPassRate near = new OutputPassRate("out<1>", 4, 4, 2, 8.5e-3, 0.85);
    OutputPassRate far = new OutputPassRate("emb", 4, 4, 0, 1e-3, 0.1);
    return AnalysisReport.builder()
        .command("precision")
        .model("m.onnx")
        .backend(new BackendPair("ort:fp32", "ort:fp16-emulated"))
        .pass(true)
        .builds(3)
        .tolerance(ToleranceView.of("normalized error <= 0.01", 0.01))
        .samples(new SampleSummary(4, 4, 2, "out<1>", List.of(near, far)))
        .search(
            new SearchView(
                "1-minimal: removing any single pinned node fails",
                60,
                3,
                new SampleSummary(1, 1, 0, "out<1>", List.of(near))))
        .headroom(
            new HeadroomView(
                0.5,
                List.of(
                    new HeadroomView.AtRisk(
                        "/l0/Pow_out",
                        "/l0/Pow",
                        "Pow",
                        43900,
                        43900 / 65504.0,
                        21604,
                        1,
                        List.of(0L, 0L, 99L),
                        List.of(1L, 128L, 384L),
                        "pass"))))
        .build();
  }

  @Test
  void everyFormatSaysTheSameAndEscapes() {
    AnalysisReport r = report();
    String console = ConsoleRenderer.render(r);
    assertThat(console)
        .contains(
            "outputs pass on 4 of 4 samples (100.0%); worst: sample 2",
            "passes at 85% of the bound",
            "stopped: 1-minimal",
            "(build cap 60)",
            "holds on held-out samples: 1 of 1 pass",
            "/l0/Pow_out (/l0/Pow, Pow): max |x| 4.39e+04 = 67.0% of 65504");
    assertThat(console.lines().filter(l -> l.contains("passes at")).count())
        .as("only the output within 20% of the bound")
        .isEqualTo(2); // the output row and its held-out row
    String md = MarkdownRenderer.render(r);
    assertThat(md).contains("## FP16 headroom", "## Precision search", "out&lt;1&gt;");
    String html = HtmlRenderer.render(r);
    assertThat(html).contains("<h2 id=\"headroom\">FP16 headroom</h2>", "out&lt;1&gt;");
    assertThat(html).doesNotContain("<li>out<1>");
    assertThat(AnalysisReport.fromJson(r.toJson())).isEqualTo(r);
    assertThat(r.toJson()).contains("\"boundShare\": 0.85", "\"index\": [");
  }
}
