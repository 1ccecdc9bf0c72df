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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the backend says about a build (TensorRT's warnings and its check of the pinned nodes)
 * reaches the report, for the plan the report answers with. Backend {@code slow} notes each pinned
 * node and the FP32 count of every candidate build, as TensorRT's plan check does.
 */
class BuildNotesCliTest {
  @TempDir Path tmp;

  private JsonNode run(String command, Path model, String... extra) throws IOException {
    Path json = tmp.resolve("r" + System.nanoTime() + ".json");
    List<String> args = new ArrayList<>(List.of(extra));
    args.addAll(List.of("--json", json.toString()));
    CliRun r = CliRun.analyse(command, model, "interp:fp32", "slow:fp16-emulated", args);
    assertThat(r.exit()).as(r.err()).isIn(0, 1);
    return new ObjectMapper().readTree(Files.readString(json));
  }

  private static List<String> notes(JsonNode report) {
    List<String> out = new ArrayList<>();
    report
        .path("warnings")
        .forEach(
            w -> {
              if (w.asText().startsWith("candidate build: ")) {
                out.add(w.asText());
              }
            });
    return out;
  }

  @Test
  void precisionListsTheBuildNotesOfItsPlanAndComparePlanOfTheCheckedPlan() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    Path out = tmp.resolve("fix");
    JsonNode precision = run("precision", model, "--no-price", "--out", out.toString());
    List<String> pinned = new ArrayList<>();
    precision.path("fp32Nodes").forEach(n -> pinned.add(n.asText()));
    assertThat(pinned).isNotEmpty();
    // the notes of the answer's build, not of the search's other probes
    assertThat(notes(precision))
        .contains("candidate build: slow: " + pinned.size() + " nodes in FP32")
        .contains("candidate build: pinned node " + pinned.get(0) + " runs in FP32");

    JsonNode check = run("compare", model, "--plan", out.resolve("plan.json").toString());
    assertThat(notes(check))
        .containsExactlyElementsOf(
            concat(
                pinned.stream().map(n -> "candidate build: pinned node " + n + " runs in FP32"),
                "candidate build: slow: " + pinned.size() + " nodes in FP32"));
    // no plan: the all-FP16 build's own note only
    assertThat(notes(run("compare", model)))
        .containsExactly("candidate build: slow: 0 nodes in FP32");
  }

  private static List<String> concat(java.util.stream.Stream<String> a, String b) {
    List<String> l = new ArrayList<>(a.toList());
    l.add(b);
    return l;
  }
}
