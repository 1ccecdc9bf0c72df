package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 19: {@code --plan-from CONVERTED.onnx} on compare and precision. */
class PlanFromCliTest {
  @TempDir Path tmp;
  Path model;
  Path converted;
  Path out;
  Path json;

  @BeforeEach
  void models() throws IOException {
    model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    converted = TestModels.write(TestModels.overflowAutoCast(), tmp.resolve("overflow-fp16.onnx"));
    out = tmp.resolve("out");
    json = tmp.resolve("r.json");
  }

  private CliRun analyse(String command, String... extra) {
    List<String> args =
        new ArrayList<>(List.of("--json", json.toString(), "--out", out.toString()));
    args.addAll(List.of(extra));
    return CliRun.analyse(command, model, "ort:fp32", "ort:fp16-emulated", args);
  }

  private JsonNode json() throws IOException {
    return new ObjectMapper().readTree(json.toFile());
  }

  @Test
  void compareVerifiesTheConvertedModelsPlan() throws IOException {
    assertThat(analyse("compare").exit()).isEqualTo(1);
    CliRun r = analyse("compare", "--plan-from", converted.toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(json().path("warnings").toString())
        .contains(
            "plan from AutoCast-style model overflow-fp16.onnx keeps 3 of 4 float nodes in FP32");
  }

  @Test
  void precisionShrinksTheConvertedModelsSet() throws IOException {
    CliRun r = analyse("precision", "--plan-from", converted.toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    JsonNode j = json();
    assertThat(j.path("fp32Nodes").toString()).isEqualTo("[\"shrink\",\"square\"]");
    assertThat(j.path("warnings").toString())
        .contains("1 of the 3 FP32 nodes of overflow-fp16.onnx were unnecessary: the plan keeps 2");
    assertThat(Files.readString(out.resolve("trtexec-flags.txt")))
        .contains("--layerPrecisions=shrink:fp32,square:fp32");
  }

  @Test
  void badPlanFromIsAOneLineUsageError() throws IOException {
    CliRun missing = analyse("compare", "--plan-from", tmp.resolve("nope.onnx").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.errLine()).contains("--plan-from").doesNotContain("\n");
    // the FP32 model itself is not a converted model
    CliRun notConverted = analyse("compare", "--plan-from", model.toString());
    assertThat(notConverted.exit()).isEqualTo(2);
    assertThat(notConverted.errLine()).contains("no float16 or bfloat16 tensor");
    CliRun both =
        analyse("compare", "--plan-from", converted.toString(), "--plan", converted.toString());
    assertThat(both.exit()).isEqualTo(2);
  }
}
