package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 on the command line: --load-inputs with several files and folders, --sample-axis, pinned
 * fills, --holdout, --headroom, and their usage errors. The overflow model squares 300 x: x = 0.9
 * overflows FP16, x = 0.1 does not.
 */
class SampleSetCliTest {
  @TempDir Path tmp;
  Path model;
  Path json;

  @BeforeEach
  void setUp() throws IOException {
    model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    json = tmp.resolve("r.json");
  }

  private CliRun analyse(String command, String... extra) {
    List<String> args = new ArrayList<>(List.of("--json", json.toString()));
    args.addAll(List.of(extra));
    return CliRun.onInterpreter(command, model, args);
  }

  private JsonNode json() throws IOException {
    return new ObjectMapper().readTree(json.toFile());
  }

  private Path sample(String name, float x) throws IOException {
    float[] v = new float[16];
    Arrays.fill(v, x);
    Path f = tmp.resolve(name);
    Npz.write(f, Map.of("x", Tensor.ofFloats(new long[] {1, 16}, v)));
    return f;
  }

  @Test
  void severalFilesAndFoldersMakeOneSampleSet() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("more"));
    Files.move(sample("b.npz", 0.9f), dir.resolve("b.npz"));
    Files.move(sample("a.npz", 0.2f), dir.resolve("a.npz"));
    Path first = sample("first.npz", 0.1f);
    CliRun r = analyse("compare", "--load-inputs", first + "," + dir);
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
    JsonNode j = json();
    assertThat(j.at("/samples/count").asInt()).isEqualTo(3);
    assertThat(j.at("/samples/passed").asInt()).isEqualTo(2);
    assertThat(j.at("/samples/worstSample").asInt()).as("folder files in name order").isEqualTo(2);
    assertThat(r.out()).contains("outputs pass on 2 of 3 samples");
  }

  @Test
  void sampleAxisSplitsStackedArrays() throws IOException {
    float[] v = new float[3 * 16];
    Arrays.fill(v, 0, 16, 0.1f);
    Arrays.fill(v, 16, 48, 0.2f);
    Path f = tmp.resolve("stacked.npz");
    Npz.write(f, Map.of("x", Tensor.ofFloats(new long[] {3, 1, 16}, v)));
    CliRun r = analyse("compare", "--load-inputs", f.toString(), "--sample-axis");
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(json().at("/samples/count").asInt()).isEqualTo(3);
  }

  @Test
  void precisionHoldsOutSamplesAndHeadroomListsTensorsAtRisk() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("set"));
    int i = 0;
    for (float x : new float[] {0.9f, 0.2f, 0.3f, 0.1f}) {
      Files.move(sample("s" + i + ".npz", x), dir.resolve("s" + i++ + ".npz"));
    }
    CliRun r =
        analyse("precision", "--load-inputs", dir.toString(), "--out", tmp.resolve("o").toString());
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(json().at("/search/searchSamples").asInt()).isEqualTo(3);
    assertThat(json().at("/search/holdout/passed").asInt()).isEqualTo(1);
    assertThat(json().at("/search/maxBuilds").asInt()).isEqualTo(60);
    assertThat(r.out()).contains("holds on held-out samples: 1 of 1 pass");

    CliRun none =
        analyse(
            "precision",
            "--load-inputs",
            dir.toString(),
            "--holdout",
            "0",
            "--out",
            tmp.resolve("o0").toString());
    assertThat(none.exit()).isZero();
    assertThat(json().at("/search/searchSamples").asInt()).isEqualTo(4);

    CliRun h = analyse("layerwise", "--input", "x:1x16:float32:0.1,last=0.8", "--headroom", "0.8");
    assertThat(h.exit()).as(h.out() + h.err()).isZero();
    assertThat(json().at("/headroom/share").asDouble()).isEqualTo(0.8);
    assertThat(json().at("/headroom/atRisk/0/tensor").asText()).isEqualTo("squared");
    assertThat(json().at("/headroom/atRisk/0/index").toString()).isEqualTo("[0,15]");
  }

  @Test
  void usageErrorsAreOneLine() throws IOException {
    Path f = sample("one.npz", 0.1f);
    assertUsage(analyse("compare", "--sample-axis"), "--sample-axis needs --load-inputs");
    assertUsage(analyse("compare", "--text", f.toString()), "--text needs --tokenizer");
    assertUsage(analyse("compare", "--tokenizer", f.toString()), "--tokenizer needs --text");
    assertUsage(
        analyse("compare", "--load-inputs", tmp.resolve("missing").toString()),
        "missing not found");
    assertUsage(analyse("precision", "--holdout", "-1"), "--holdout must be at least 0");
    assertUsage(analyse("compare", "--headroom", "2"), "headroom must be in (0, 1]");
    assertUsage(
        analyse("compare", "--input", "x:1x16:float32:0..1,first"),
        "must be first=V, last=V or @I=V");
    assertUsage(
        analyse("precision", "--load-inputs", f.toString(), "--holdout", "1"),
        "--holdout 1 leaves no sample to search on");
  }

  private static void assertUsage(CliRun r, String expected) {
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.errLine()).contains(expected).doesNotContain("\n");
  }
}
