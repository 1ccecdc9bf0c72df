package dev.halfbisect.report.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.report.SampleReports;
import dev.halfbisect.report.render.HtmlRenderer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportJsonTest {
  private static final ObjectMapper M = new ObjectMapper();

  private static List<String> keys(JsonNode n) {
    List<String> k = new ArrayList<>();
    n.fieldNames().forEachRemaining(k::add);
    return k;
  }

  @Test
  void topLevelFieldsFollowTheContract() throws IOException {
    JsonNode root = M.readTree(SampleReports.diagnose().toJson());
    assertThat(keys(root))
        .containsExactly(
            "schema",
            "command",
            "model",
            "backend",
            "verdict",
            "builds",
            "tolerance",
            "tensors",
            "firstFailing",
            "nodes",
            "byOpType",
            "byMotif",
            "fp32Nodes",
            "fp16Fraction",
            "plan",
            "trtexecFlags",
            "rootCauses",
            "warnings",
            "timings");
    assertThat(root.get("schema").asText()).isEqualTo("halfbisect/1");
    assertThat(root.get("verdict").asText()).isEqualTo("fail");
    assertThat(root.get("builds").asInt()).isEqualTo(23);
    assertThat(keys(root.get("backend")))
        .containsExactly("reference", "candidate", "lowPrecision"); // issue 19
    JsonNode t0 = root.get("tensors").get(0);
    assertThat(keys(t0))
        .startsWith("name", "node", "opType", "normalizedError", "maxAbs", "verdict");
    assertThat(t0.get("verdict").asText()).isEqualTo("pass");
    assertThat(keys(root.get("firstFailing"))).startsWith("tensor", "node", "opType");
    assertThat(root.get("firstFailing").get("node").asText())
        .isEqualTo(SampleReports.FIRST_FAILING_NODE);
    assertThat(keys(root.get("nodes").get(0)))
        .contains("node", "opType", "localError", "inputError", "outputError", "amplification");
    assertThat(root.get("byOpType").isObject()).isTrue();
    assertThat(keys(root.get("byOpType"))).isSorted().contains("Pow", "Softmax", "MatMul");
    assertThat(root.get("fp32Nodes").isArray()).isTrue();
    assertThat(root.get("fp32Nodes").get(0).asText()).isEqualTo("/blocks/blocks.9/norm2/Pow");
    assertThat(root.get("fp16Fraction").isNumber()).isTrue();
    assertThat(root.get("trtexecFlags").asText())
        .contains("--precisionConstraints=obey", "/blocks/blocks.9/norm2/Pow:fp32");
    assertThat(keys(root.get("timings"))).containsExactly("buildSeconds", "totalSeconds");
  }

  @Test
  void optionalSectionsAreLeftOut() throws IOException {
    AnalysisReport r =
        AnalysisReport.header(
            "compare",
            "m.onnx",
            BackendPair.of("ort:fp32", "ort:fp16-emulated"),
            true,
            1,
            ToleranceView.fp16Default());
    JsonNode root = M.readTree(r.toJson());
    assertThat(keys(root))
        .containsExactly("schema", "command", "model", "backend", "verdict", "builds", "tolerance");
  }

  @Test
  void roundTripIsByteIdentical() {
    AnalysisReport r = SampleReports.diagnose();
    String json = r.toJson();
    AnalysisReport back = AnalysisReport.fromJson(json);
    assertThat(back).isEqualTo(r);
    assertThat(back.toJson()).isEqualTo(json);
    assertThat(SampleReports.diagnose().toJson()).isEqualTo(json);
    assertThat(json).endsWith("}\n").contains("\"schema\": \"halfbisect/1\"").doesNotContain("\r");
  }

  @Test
  void nonFiniteNumbersSurviveTheRoundTrip() {
    AnalysisReport r = SampleReports.diagnose();
    String json = r.toJson();
    assertThat(json).contains("\"normalizedError\": \"Infinity\"");
    AnalysisReport back = AnalysisReport.fromJson(json);
    assertThat(back.firstFailing().error()).isInfinite();
    assertThat(back.nodesOrEmpty()).anySatisfy(n -> assertThat(n.amplification()).isInfinite());
    String other =
        json.replaceFirst("\"normalizedError\": \"Infinity\"", "\"normalizedError\": \"-inf\"")
            .replaceFirst("\"maxAbs\": \"Infinity\"", "\"maxAbs\": \"nan\"");
    TensorRow first =
        AnalysisReport.fromJson(other).tensorsOrEmpty().stream()
            .filter(t -> t.node().equals(SampleReports.FIRST_FAILING_NODE))
            .findFirst()
            .orElseThrow();
    assertThat(first.normalizedError()).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(first.maxAbs()).isNaN();
    assertThatThrownBy(
            () ->
                AnalysisReport.fromJson(
                    json.replaceFirst("\"builds\": 23", "\"builds\": \"many\"")))
        .hasMessageContaining("at builds");
    assertThatThrownBy(
            () ->
                AnalysisReport.fromJson(
                    json.replaceFirst("\"maxAbs\": [0-9.E-]+", "\"maxAbs\": true")))
        .hasMessageContaining("at tensors[0].maxAbs");
    assertThatThrownBy(
            () ->
                AnalysisReport.fromJson(
                    json.replaceFirst("\"fp16Fraction\": [0-9.E-]+", "\"fp16Fraction\": \"lots\"")))
        .hasMessageContaining("lots");
  }

  @Test
  void readsJsonFilesAndHtmlReports(@TempDir Path dir) throws IOException {
    AnalysisReport r = SampleReports.hostileNames();
    Path json = dir.resolve("r.json");
    r.write(json);
    assertThat(AnalysisReport.read(json)).isEqualTo(r);
    Path html = HtmlRenderer.write(r, dir.resolve("r.html"));
    assertThat(AnalysisReport.read(html)).isEqualTo(r);
    assertThat(AnalysisReport.read(html).toJson()).isEqualTo(r.toJson());
  }

  @Test
  void rejectsOtherSchemasAndBadFields(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> AnalysisReport.fromJson("{\"schema\": \"halfbisect/9\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("halfbisect/9")
        .hasMessageContaining("halfbisect/1");
    String good = SampleReports.hostileNames().toJson();
    assertThatThrownBy(
            () ->
                AnalysisReport.fromJson(
                    good.replace("\"verdict\": \"fail\"", "\"verdict\": \"maybe\"")))
        .hasMessageContaining("verdict");
    assertThatThrownBy(
            () -> AnalysisReport.fromJson(good.replace("\"cause\": \"", "\"cause\": \"x")))
        .hasMessageContaining("root cause class");
    Path bad = dir.resolve("broken.json");
    Files.writeString(bad, "{\"schema\": ", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> AnalysisReport.read(bad))
        .hasMessageContaining("broken.json")
        .hasMessageContaining("not valid JSON");
    Path page = dir.resolve("other.html");
    Files.writeString(page, "<html><body>hi</body></html>", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> AnalysisReport.read(page)).hasMessageContaining("other.html");
  }

  @Test
  void fp32NodesAndMapsAreSorted() {
    AnalysisReport r =
        AnalysisReport.header(
                "precision",
                "m.onnx",
                BackendPair.of("a", "b"),
                true,
                3,
                ToleranceView.fp16Default())
            .withPrecision(List.of("z", "a", "m"), 0.9, null, null)
            .withTimings(java.util.Map.of("z", 1.0, "a", 2.0));
    assertThat(r.fp32Nodes()).containsExactly("a", "m", "z");
    assertThat(r.toJson().indexOf("\"a\": 2.0")).isLessThan(r.toJson().indexOf("\"z\": 1.0"));
  }

  @Test
  void acceptsAToleranceWrittenAsPlainText() {
    String json =
        "{\"schema\": \"halfbisect/1\", \"command\": \"compare\", \"model\": \"m.onnx\", "
            + "\"backend\": {\"reference\": \"ort:fp32\", \"candidate\": \"ort:fp16-emulated\"}, "
            + "\"verdict\": \"pass\", \"builds\": 1, \"tolerance\": \"normalized<=0.01\", \"extra\": 3}";
    AnalysisReport r = AnalysisReport.fromJson(json);
    assertThat(r.tolerance()).isEqualTo(new ToleranceView("normalized<=0.01", null));
    assertThat(r.tolerance().limitOrDefault()).isEqualTo(1e-2);
  }
}
