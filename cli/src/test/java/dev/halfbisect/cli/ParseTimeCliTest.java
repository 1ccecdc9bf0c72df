package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.onnx.builder.ParseTimeModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 through the CLI on {@code ort}: a Conv-BN CNN with a huge BN variance passes and its
 * folded BNs are reported, never pinned; a ~0 output passes by the absolute fallback with a warning
 * in the console and the JSON.
 */
class ParseTimeCliTest {
  @TempDir Path tmp;

  private static final String[] ORT = {
    "--reference", "ort:fp32", "--candidate", "ort:fp16-emulated", "--quiet"
  };

  private CliRun run(String command, Path model, String input, Path json, String... extra) {
    java.util.List<String> a =
        new java.util.ArrayList<>(
            java.util.List.of(
                command, model.toString(), "--input", input, "--json", json.toString()));
    a.addAll(java.util.List.of(ORT));
    a.addAll(java.util.List.of(extra));
    return CliRun.of(a.toArray(String[]::new));
  }

  @Test
  void convBnCnnPassesAndItsFoldedBatchNormsAreReportedNotPinned() throws Exception {
    Path m = tmp.resolve("cnn.onnx");
    ParseTimeModels.convBnCnn(ParseTimeModels.HUGE_VARIANCE).save(m);
    Path json = tmp.resolve("p.json");
    CliRun r =
        run(
            "precision",
            m,
            "x:1x3x16x16:float32:-1..1",
            json,
            "--out",
            tmp.resolve("out").toString());
    assertThat(r.exit()).as(r.err()).isEqualTo(Main.PASS);
    JsonNode j = new ObjectMapper().readTree(json.toFile());
    assertThat(j.path("verdict").asText()).isEqualTo("pass");
    assertThat(j.path("fp32Nodes")).isEmpty();
    assertThat(j.path("warnings").toString())
        .contains("folded by TensorRT at parse time")
        .contains(ParseTimeModels.BN1);
  }

  @Test
  void nearZeroOutputPassesWithANotMeaningfulWarning() throws Exception {
    Path m = tmp.resolve("z.onnx");
    ParseTimeModels.nearZeroOutput().save(m);
    Path json = tmp.resolve("c.json");
    CliRun r = run("compare", m, "x:1x64:float32:-1..1", json);
    assertThat(r.exit()).as(r.err()).isEqualTo(Main.PASS);
    JsonNode j = new ObjectMapper().readTree(json.toFile());
    assertThat(j.path("verdict").asText()).isEqualTo("pass");
    assertThat(j.path("warnings").toString()).contains("normalized error is not meaningful for y");
  }
}
