package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issues 18 and 19: an emulation-first search runs on the emulation of the candidate's own type and
 * typing (a BF16 candidate on BF16 emulation, not FP16), {@code --emulation} overrides it, and a
 * model the matching emulation cannot run is searched on the candidate with a note. The candidate
 * is {@code twin} (cli/testing), TensorRT's mode names over ONNX Runtime's emulations.
 */
class EmulationMatchingCliTest {
  @TempDir Path tmp;
  Path cancel;
  Path json;

  @BeforeEach
  void models() throws IOException {
    cancel = tmp.resolve("cancel.onnx");
    StrongTypingAndBf16CliTest.cancellation().save(cancel);
    json = tmp.resolve("r.json");
  }

  private JsonNode run(String command, Path model, String candidate, String... extra)
      throws IOException {
    List<String> args =
        new ArrayList<>(List.of("--json", json.toString(), "--out", tmp.resolve("out").toString()));
    args.addAll(List.of("--search-on", "emulation", "--no-price"));
    if (!List.of(extra).contains("--emulation-jobs")) {
      args.addAll(List.of("--emulation-jobs", "1")); // the notes' wording, whatever the cores
    }
    args.addAll(List.of(extra));
    CliRun r = CliRun.analyse(command, model, "ort:fp32", candidate, args);
    assertThat(r.exit()).as(r.err()).isIn(0, 1);
    return new ObjectMapper().readTree(Files.readString(json));
  }

  @Test
  void aBf16CandidateIsSearchedOnBf16Emulation() throws IOException {
    // FP16 keeps (x + 8) - 8 (passes as it is), BF16 does not: an FP16 emulation would pin nothing
    JsonNode p = run("precision", cancel, "twin:bf16-strong");
    assertThat(p.path("warnings").toString())
        .contains(
            "emulation first (ort:bf16-strong-emulated): the candidate passed the emulation's"
                + " plan");
    assertThat(p.path("execution").path("emulationBuilds").asInt()).isPositive();
    assertThat(p.path("fp32Nodes").toString()).isEqualTo("[\"shift\",\"unshift\"]");
    assertThat(p.path("verdict").asText()).isEqualTo("pass");

    JsonNode b = run("bisect", cancel, "twin:bf16-strong");
    assertThat(b.path("firstFailing").path("node").asText()).isEqualTo("unshift");
    assertThat(b.path("execution").path("emulationBuilds").asInt()).isPositive();
    assertThat(b.path("execution").path("emulationParallelism").asInt()).isPositive();
  }

  @Test
  void aStrongFp16CandidateIsSearchedOnTheStrongEmulationUnlessTold() throws IOException {
    Path overflow = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    assertThat(run("precision", overflow, "twin:fp16-strong").path("warnings").toString())
        .contains("emulation first (ort:fp16-strong-acc16-emulated)");
    assertThat(run("precision", overflow, "twin:fp16").path("warnings").toString())
        .contains("emulation first (ort:fp16-acc16-emulated)");
    JsonNode told =
        run("precision", overflow, "twin:fp16-strong", "--emulation", "ort:fp16-emulated");
    assertThat(told.path("warnings").toString()).contains("emulation first (ort:fp16-emulated)");
    assertThat(told.path("fp32Nodes").toString()).isEqualTo("[\"shrink\",\"square\"]");

    // emulation probes side by side: the same plan, and the note says how many at a time
    JsonNode three = run("precision", overflow, "twin:fp16-strong", "--emulation-jobs", "3");
    assertThat(three.path("warnings").toString())
        .contains("emulation first (ort:fp16-strong-acc16-emulated, 3 emulation probes at a time)");
    assertThat(three.path("execution").path("emulationParallelism").asInt()).isEqualTo(3);
    assertThat(three.path("fp32Nodes"))
        .isEqualTo(
            run("precision", overflow, "twin:fp16-strong", "--emulation-jobs", "1")
                .path("fp32Nodes"));
    assertThat(
            CliRun.analyse(
                    "precision",
                    overflow,
                    "ort:fp32",
                    "twin:fp16",
                    List.of("--emulation-jobs", "0"))
                .errLine())
        .contains("--emulation-jobs must be at least 1");

    CliRun unknown =
        CliRun.analyse(
            "precision",
            overflow,
            "ort:fp32",
            "twin:fp16",
            List.of("--search-on", "emulation", "--emulation", "nope:x"));
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.errLine()).contains("emulation nope:x: unknown backend 'nope'");

    CliRun bad =
        CliRun.analyse(
            "precision", overflow, "ort:fp32", "twin:fp16", List.of("--emulation", "ort"));
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.errLine()).contains("emulation backend ort");
  }

  @Test
  void aModelTheBf16EmulationCannotRunIsSearchedOnTheCandidate() throws IOException {
    // opset 11: ONNX's Cast to bfloat16 needs opset 13, so ort:bf16-strong-emulated cannot run it
    Onnx.ModelProto old = TestModels.overflow();
    old =
        old.toBuilder().setOpsetImport(0, old.getOpsetImport(0).toBuilder().setVersion(11)).build();
    Path model = TestModels.write(old, tmp.resolve("overflow-opset11.onnx"));
    JsonNode p = run("precision", model, "twin:bf16-strong");
    assertThat(p.path("warnings").toString())
        .contains(
            "emulation first is off: ort:bf16-strong-emulated needs ONNX opset >= 13 (Cast to"
                + " bfloat16) and model '")
        .contains("overflow-opset11.onnx' has opset 11; every probe ran on twin:bf16-strong")
        .doesNotContain("emulation first (");
    assertThat(
            p.path("execution").path("emulationBuilds").isMissingNode()
                || p.path("execution").path("emulationBuilds").isNull())
        .isTrue();
    assertThat(p.path("fp32Nodes")).isNotEmpty();
  }
}
