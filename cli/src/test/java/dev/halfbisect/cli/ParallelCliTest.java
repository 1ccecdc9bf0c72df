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

/** Issue 18 on the command line: --jobs, the reference cache, --search-on. */
class ParallelCliTest {
  @TempDir Path tmp;

  private JsonNode run(String command, Path model, String... extra) throws IOException {
    Path json = tmp.resolve(command + "-" + System.nanoTime() + ".json");
    List<String> args = new ArrayList<>(List.of("--json", json.toString()));
    args.addAll(List.of(extra));
    CliRun r = CliRun.onInterpreter(command, model, args);
    assertThat(r.exit()).as(r.err()).isIn(0, 1);
    return new ObjectMapper().readTree(Files.readString(json));
  }

  @Test
  void jobsRunsProbesAtOnceAndReportsRounds() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    JsonNode one = run("bisect", model);
    JsonNode three = run("bisect", model, "--jobs", "3");
    assertThat(three.path("firstFailing")).isEqualTo(one.path("firstFailing"));
    assertThat(three.path("execution").path("parallelism").asInt()).isEqualTo(3);
    assertThat(three.path("execution").path("rounds").asInt())
        .isLessThanOrEqualTo(one.path("execution").path("rounds").asInt());
    CliRun bad = CliRun.of("bisect", model.toString(), "--jobs", "0");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.errLine()).contains("--jobs must be at least 1");
  }

  @Test
  void jobsNeitherSetsAJvmWidePropertyNorInvalidatesTheJournal() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    Path out = tmp.resolve("fix");
    JsonNode first = run("precision", model, "--no-price", "--out", out.toString());
    assertThat(System.getProperty("halfbisect.trt.workers")).isNull();
    JsonNode again = run("precision", model, "--no-price", "--out", out.toString(), "--jobs", "3");
    assertThat(System.getProperty("halfbisect.trt.workers")).isNull();
    // the probes are the same whatever runs them at once: all come from the journal
    assertThat(again.path("builds").asInt()).isZero();
    assertThat(again.path("warnings").toString()).contains("resumed: ");
    assertThat(again.path("fp32Nodes")).isEqualTo(first.path("fp32Nodes"));
  }

  @Test
  void bisectAfterCompareReadsTheReferenceFromTheCache() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    run("compare", model);
    run("layerwise", model);
    JsonNode bisect = run("bisect", model);
    assertThat(bisect.path("execution").path("referenceBuilds").asInt()).isZero();
    assertThat(AnalysisOptions.referenceCacheDir()).startsWith(Path.of("").toAbsolutePath());
    JsonNode uncached = run("bisect", model, "--no-reference-cache");
    assertThat(uncached.path("execution").path("referenceBuilds").asInt()).isPositive();
    assertThat(uncached.path("firstFailing")).isEqualTo(bisect.path("firstFailing"));
  }

  @Test
  void searchOnEmulationReportsBothSidesBuilds() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    JsonNode direct = run("precision", model, "--search-on", "candidate");
    JsonNode first = run("precision", model, "--search-on", "emulation", "--emulation-jobs", "1");
    assertThat(first.path("fp32Nodes")).isEqualTo(direct.path("fp32Nodes"));
    assertThat(first.path("execution").path("searchedOn").asText()).isEqualTo("emulation");
    assertThat(first.path("execution").path("emulationBuilds").asInt()).isPositive();
    assertThat(first.path("builds").asInt()).isLessThanOrEqualTo(direct.path("builds").asInt());
    assertThat(first.path("warnings").toString())
        .contains(
            "emulation first (ort:fp16-acc16-emulated): the candidate passed the emulation's plan and removed what it did not need");
    assertThat(direct.path("warnings").toString()).doesNotContain("emulation first");
  }

  @Test
  void theCandidatesBuildCapLeavesTheEmulationItsOwn() throws IOException {
    // rounding only, at half its all-FP16 error: the emulation's search takes many probes
    Path model = TestModels.write(TestModels.roundingChain(), tmp.resolve("chain.onnx"));
    double e = run("compare", model).path("tensors").get(0).path("normalizedError").asDouble();
    String[] search = {"--search-on", "emulation", "--max-error", Double.toString(e / 2)};
    int needs = run("precision", model, search).path("execution").path("emulationBuilds").asInt();
    assertThat(needs).isGreaterThan(1);
    JsonNode tight = run("precision", model, concat(search, "--max-builds", "1"));
    assertThat(tight.path("execution").path("emulationBuilds").asInt()).isEqualTo(needs);
    JsonNode cut = run("precision", model, concat(search, "--max-emulation-builds", "1"));
    assertThat(cut.path("execution").path("emulationBuilds").asInt()).isLessThan(needs);
    CliRun bad = CliRun.of("precision", model.toString(), "--max-emulation-builds", "0");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.errLine()).contains("--max-emulation-builds must be at least 1, got 0");
  }

  private static String[] concat(String[] a, String... b) {
    List<String> all = new ArrayList<>(List.of(a));
    all.addAll(List.of(b));
    return all.toArray(String[]::new);
  }

  @Test
  void searchOnRejectsAnUnknownSide() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    CliRun bad = CliRun.of("precision", model.toString(), "--search-on", "gpu");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.errLine()).contains("--search-on").contains("auto, emulation or candidate");
  }
}
