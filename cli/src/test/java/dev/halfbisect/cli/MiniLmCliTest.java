package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real all-MiniLM-L6-v2 (90 MB, opset 11) through the CLI with ONNX Runtime FP16 emulation: a
 * healthy FP16 model must pass by default. Short sequences keep each run to seconds.
 */
class MiniLmCliTest {
  @TempDir static Path tmp;
  static Path model;

  @BeforeAll
  static void extract() throws IOException {
    Assumptions.assumeTrue(MiniLmModel.onClassPath(), "MiniLM test jar not on the class path");
    model = MiniLmModel.copyTo(tmp);
    // The ort backend gets FP16 emulation from onnx-surgery; skip cleanly on a build without it.
    try {
      Backends.resolve(BackendSpec.parse("ort:fp16-emulated"))
          .open(ModelRef.ofPath(model), BuildOptions.of("fp16-emulated"))
          .close();
    } catch (Exception e) {
      Assumptions.assumeTrue(false, "ort:fp16-emulated unavailable: " + e.getMessage());
    }
  }

  private static CliRun run(String command, Path out, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                command,
                model.toString(),
                "--reference",
                "ort:fp32",
                "--candidate",
                "ort:fp16-emulated",
                "--input",
                "input_ids:1x32:int64:1000..21000",
                "--quiet",
                "--json",
                out.resolve("r.json").toString(),
                "--out",
                out.toString()));
    if (List.of(extra).stream().anyMatch(a -> a.startsWith("input_ids:"))) {
      int i = args.indexOf("input_ids:1x32:int64:1000..21000"); // the test gives its own ids
      args.remove(i);
      args.remove(i - 1);
    }
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  private static JsonNode json(Path out) throws IOException {
    return new ObjectMapper().readTree(out.resolve("r.json").toFile());
  }

  @Test
  void comparePassesByDefault() throws IOException {
    Path out = tmp.resolve("compare");
    CliRun r = run("compare", out);
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    JsonNode j = json(out);
    assertThat(j.path("verdict").asText()).isEqualTo("pass");
    assertThat(j.path("tensors").get(0).path("normalizedError").asDouble())
        .isGreaterThan(0)
        .isLessThan(1e-2);
    assertThat(j.path("warnings").toString())
        .contains("attention_mask:1x32:int64:1", "token_type_ids:1x32:int64:0");
  }

  @Test
  void layerwiseCoversEveryFloatTensor() throws IOException {
    Path out = tmp.resolve("layerwise");
    CliRun r = run("layerwise", out);
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    JsonNode tensors = json(out).path("tensors");
    assertThat(tensors.size()).isGreaterThan(300);
    assertThat(tensors.toString()).contains("\"opType\":\"Erf\"", "\"opType\":\"Pow\"");
  }

  @Test
  void precisionFindsNothingToPinAndWritesFiles() throws IOException {
    Path out = tmp.resolve("precision");
    CliRun r = run("precision", out);
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(json(out).path("fp32Nodes")).isEmpty();
    assertThat(json(out).path("fp16Fraction").asDouble()).isEqualTo(1.0);
    assertThat(out.resolve("plan.json")).isRegularFile();
    assertThat(Files.readString(out.resolve("trtexec-flags.txt")).trim())
        .isEqualTo("--fp16 --noTF32");
    assertThat(out.resolve("model-fp16.onnx")).isRegularFile();
  }

  // issue 15: real text through the MiniLM tokenizer, and pinned token ids

  @Test
  void textIsTokenizedWithTheShippedTokenizer() throws IOException {
    Path out = tmp.resolve("text");
    Files.createDirectories(out);
    Path tok = out.resolve("tokenizer.json");
    try (var in =
        MiniLmCliTest.class
            .getClassLoader()
            .getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
      Files.copy(in, tok);
    }
    Path text =
        Files.writeString(out.resolve("lines.txt"), "a healthy model\nmust pass on real text\n");
    CliRun r = run("compare", out, "--text", text.toString(), "--tokenizer", tok.toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(json(out).at("/samples/count").asInt()).isEqualTo(2);
    assertThat(json(out).at("/samples/passed").asInt()).isEqualTo(2);
  }

  @Test
  void pinnedClsAndSepTokensRunAndAreDerivedForBerts() throws IOException {
    Path out = tmp.resolve("pinned");
    CliRun r =
        run("compare", out, "--input", "input_ids:1x32:int64:1000..21000,first=101,last=102");
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(json(out).path("headroom").path("share").asDouble()).isEqualTo(0.5);
  }
}
