package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same model, seed and options give the same JSON document byte for byte, timings excluded:
 * {@code diagnose --json} twice in fresh output folders.
 */
class DeterminismTest {
  /** Field names that carry wall-clock measurements or dates, dropped before comparing. */
  private static final Pattern TIMING =
      Pattern.compile(
          "(.*[a-z0-9]Ms|ms|.*Millis|millis|.*Seconds|seconds|.*[Tt]imes?|[Tt]ime.*|elapsed.*|.*[a-z]Elapsed|timestamp|date|.*[a-z]At"
              + "|keptShare)"); // issue 20: the price's share is derived from latencies

  @TempDir Path tmp;

  @Test
  void diagnoseJsonIsByteIdenticalAcrossRunsExceptTimings() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    String first = diagnose(model, "a", "interp");
    String second = diagnose(model, "b", "interp");
    assertThat(stripTimings(second)).isEqualTo(stripTimings(first));
    // the second run read the reference from the reference cache
    assertThat(
            new ObjectMapper().readTree(second).path("execution").path("referenceBuilds").asInt())
        .isZero();
    JsonNode j = new ObjectMapper().readTree(first);
    assertThat(j.path("command").asText()).isEqualTo("diagnose");
    assertThat(j.path("verdict").asText()).isEqualTo("fail");
  }

  @Test
  void diagnoseJsonOnOnnxRuntimeIsByteIdenticalAcrossRunsExceptTimings() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    String first = diagnose(model, "c", "ort");
    String second = diagnose(model, "d", "ort");
    assertThat(stripTimings(second)).isEqualTo(stripTimings(first));
    assertThat(new ObjectMapper().readTree(first).path("backend").path("candidate").asText())
        .isEqualTo("ort:fp16-emulated");
  }

  private String diagnose(Path model, String run, String backend) throws IOException {
    Path out = tmp.resolve("out-" + run);
    Path json = out.resolve("diagnose.json");
    CliRun r =
        CliRun.of(
            "diagnose",
            model.toString(),
            "--reference",
            backend + ":fp32",
            "--candidate",
            backend + ":fp16-emulated",
            "--seed",
            "42",
            "--samples",
            "2",
            "--quiet",
            "--out",
            out.toString(),
            "--json",
            json.toString());
    assertThat(r.exit()).as(r.err()).isIn(0, 1);
    // paths differ per run by design (out-a vs out-b): normalise the folder name only
    return Files.readString(json).replace(out.toString(), "<out>");
  }

  /** The document with every timing field removed, re-serialised in its own field order. */
  static String stripTimings(String json) throws IOException {
    ObjectMapper m = new ObjectMapper();
    JsonNode n = m.readTree(json);
    List<String> removed = new ArrayList<>();
    // issue 18: how the probes ran (reference builds are 0 when the reference cache answered)
    if (n.isObject()
        && ((com.fasterxml.jackson.databind.node.ObjectNode) n).remove("execution") != null) {
      removed.add("/execution");
    }
    strip(n, "", removed);
    System.out.println(
        "DeterminismTest: timing fields ignored: " + new java.util.TreeSet<>(removed));
    return m.writerWithDefaultPrettyPrinter().writeValueAsString(n);
  }

  private static void strip(JsonNode n, String path, List<String> removed) {
    if (n.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = n.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (TIMING.matcher(e.getKey()).matches()
            && (e.getValue().isNumber() || e.getValue().isTextual())) {
          removed.add(path + "/" + e.getKey());
          it.remove();
        } else {
          strip(e.getValue(), path + "/" + e.getKey(), removed);
        }
      }
    } else if (n.isArray()) {
      for (JsonNode c : n) {
        strip(c, path + "[]", removed);
      }
    }
  }
}
