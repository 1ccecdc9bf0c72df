package dev.halfbisect.report.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.report.SampleReports;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.ToleranceView;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class RenderersTest {
  static Document parseXml(String html) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    return f.newDocumentBuilder()
        .parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<String> texts(Document d, String tag) {
    NodeList l = d.getElementsByTagNameNS("*", tag);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < l.getLength(); i++) {
      out.add(l.item(i).getTextContent());
    }
    return out;
  }

  @Test
  void consoleFitsHundredColumnsAndHasTheTableAndFirstDivergence() {
    String c = ConsoleRenderer.render(SampleReports.diagnose());
    for (String line : c.split("\n")) {
      if (line.startsWith("  trtexec ")) {
        continue; // the command to paste is one line, whatever its length (issue 17)
      }
      assertThat(line.length()).as(line).isLessThanOrEqualTo(100);
    }
    assertThat(c)
        .contains(
            "halfbisect diagnose  FAIL",
            "First divergence",
            SampleReports.FIRST_FAILING_NODE + " (Pow)",
            "Blocks x checkpoints",
            "attention",
            "LayerNorm",
            "FC1",
            "GELU",
            "FC2",
            "block output",
            "Top amplifiers",
            "FP32 set: 2 nodes",
            "--precisionConstraints=obey",
            "Root causes",
            "[overflow]");
    // Block 9 row: the LayerNorm cell (norm2 output) fails, the attention cell (before the Pow)
    // passes.
    String row9 = c.lines().filter(l -> l.startsWith("blocks.9 ")).findFirst().orElseThrow();
    assertThat(row9).contains("*");
    String row0 = c.lines().filter(l -> l.startsWith("blocks.0 ")).findFirst().orElseThrow();
    assertThat(row0).doesNotContain("*");
    assertThat(c.lines().filter(l -> l.matches("blocks\\.\\d+ .*")).count()).isEqualTo(12);
  }

  @Test
  void markdownHasTheTableAndFirstDivergence() {
    String m = MarkdownRenderer.render(SampleReports.diagnose());
    assertThat(m)
        .contains(
            "## First divergence",
            "`" + SampleReports.FIRST_FAILING_NODE + "`",
            "| block | attention | LayerNorm | FC1 | GELU | FC2 | block output |",
            "| `blocks.11` |",
            "## FP32 set",
            "```sh\ntrtexec --onnx=models/timesformer-base-k400.onnx --fp16",
            "**overflow**");
  }

  @Test
  void htmlIsWellFormedXhtmlWithChartsAndSections() throws Exception {
    AnalysisReport r = SampleReports.diagnose();
    String html = HtmlRenderer.render(r);
    Document d = parseXml(html);
    assertThat(d.getDocumentElement().getLocalName()).isEqualTo("html");
    assertThat(d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength())
        .isEqualTo(3);
    assertThat(texts(d, "h2"))
        .contains(
            "Error along the topological order",
            "Blocks x checkpoints",
            "First divergence",
            "Amplification",
            "FP32 set found",
            "Root causes and fixes",
            "Warnings");
    assertThat(html).contains("class=\"tol\"", "first divergence: ", "class=\"ffmark\"");
    assertThat(html).doesNotContain("https://", "<link", "src=\"", "url(", "@import");
    // Heatmap: 12 block rows with 6 checkpoint cells each.
    NodeList tables = d.getElementsByTagNameNS("*", "table");
    Element heat = null;
    for (int i = 0; i < tables.getLength(); i++) {
      if ("heat".equals(((Element) tables.item(i)).getAttribute("class"))) {
        heat = (Element) tables.item(i);
      }
    }
    assertThat(heat).isNotNull();
    assertThat(heat.getElementsByTagNameNS("*", "tr").getLength()).isEqualTo(13);
    // The single script element is the JSON document, equal to the report.
    List<String> scripts = texts(d, "script");
    assertThat(scripts).hasSize(1);
    assertThat(AnalysisReport.fromJson(scripts.get(0))).isEqualTo(r);
    Path out = Path.of("target", "sample-report");
    Files.createDirectories(out);
    HtmlRenderer.write(r, out.resolve("report.html"));
    Files.writeString(out.resolve("report.md"), MarkdownRenderer.render(r));
    Files.writeString(out.resolve("report.txt"), ConsoleRenderer.render(r));
    r.write(out.resolve("report.json"));
  }

  @Test
  void hostileNamesAreEscapedEverywhere() throws Exception {
    AnalysisReport r = SampleReports.hostileNames();
    String html = HtmlRenderer.render(r);
    assertThat(html).doesNotContain("<script>alert", "</script><b>", "<model>");
    Document d = parseXml(html);
    assertThat(texts(d, "script")).hasSize(1);
    assertThat(texts(d, "b")).as("the warning's <b> must stay text").doesNotContain("bold");
    assertThat(String.join(" ", texts(d, "code"))).contains("<script>alert('x')</script>&\"q\"");
    assertThat(String.join(" ", texts(d, "li"))).contains("</script><b>bold</b>");
    assertThat(AnalysisReport.fromJson(texts(d, "script").get(0))).isEqualTo(r);

    String md = MarkdownRenderer.render(r);
    assertThat(md)
        .doesNotContain("</script><b>")
        .contains("&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;");
    assertThat(md).contains("`/blocks/blocks.0/attn/<script>alert('x')</script>&\"q\"`");
    assertThat(MarkdownRenderer.code("a|b`c")).isEqualTo("``a\\|b`c``");
    assertThat(MarkdownRenderer.text("x|<i>")).isEqualTo("x\\|&lt;i&gt;");
    String console = ConsoleRenderer.render(r);
    assertThat(console).contains("<script>alert('x')</script>");
  }

  @Test
  void consoleWrapsSentencesButNeverSplitsAWord() {
    List<String> out = new ArrayList<>();
    String name = "/blocks/blocks.7/temporal_norm1/" + "x".repeat(100) + "/Pow_output_0";
    ConsoleRenderer.wrap(out, "  tensor  " + name + " and more words", "    ");
    ConsoleRenderer.wrap(out, "  -> " + "word ".repeat(60), "       ");
    // the long name is one line of its own, whole; everything else fits the width
    assertThat(out.get(1)).isEqualTo("    " + name);
    assertThat(out)
        .filteredOn(l -> !l.contains(name))
        .allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(100));
  }

  @Test
  void trtexecLineQuotesWhatTheShellWouldSplit() {
    assertThat(TrtexecLine.quote("--onnx=models/a.onnx")).isEqualTo("--onnx=models/a.onnx");
    assertThat(TrtexecLine.quote("--onnx=my models/a.onnx")).isEqualTo("'--onnx=my models/a.onnx'");
    assertThat(TrtexecLine.quote("it's")).isEqualTo("'it'\\''s'");
    assertThat(TrtexecLine.quote("--layerPrecisions=/a/b:fp32,(c):fp32"))
        .isEqualTo("'--layerPrecisions=/a/b:fp32,(c):fp32'");
  }

  @Test
  void headerOnlyReportRendersInEveryFormat(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    AnalysisReport r =
        AnalysisReport.header(
            "compare",
            "m.onnx",
            BackendPair.of("ort:fp32", "ort:fp16-emulated"),
            true,
            1,
            ToleranceView.fp16Default());
    for (ReportFormat f : ReportFormat.values()) {
      Path file = ReportFormat.write(r, dir.resolve("sub").resolve("r" + f.extension()));
      assertThat(ReportFormat.forFile(file)).isEqualTo(f);
      assertThat(Files.readString(file)).contains("m.onnx");
    }
    Document d = parseXml(Files.readString(dir.resolve("sub/r.html")));
    assertThat(d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength()).isZero();
    assertThat(texts(d, "h1").get(0)).contains("PASS");
    assertThat(AnalysisReport.read(dir.resolve("sub/r.html"))).isEqualTo(r);
    assertThat(ConsoleRenderer.render(r))
        .contains("halfbisect compare  PASS")
        .doesNotContain("First divergence");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReportFormat.forFile(Path.of("r.pdf")))
        .hasMessageContaining("r.pdf");
  }
}
