package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.verdict.Tolerance;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 18 through the facade: parallelism, the reference cache, emulation first. */
class ParallelAndCacheTest {
  @TempDir Path tmp;

  private static HalfBisect overflow() {
    return HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .samples(2);
  }

  private static JsonNode json(AnalysisResult r) throws Exception {
    return new ObjectMapper().readTree(r.toJson());
  }

  @Test
  void parallelBisectReportsItsRoundsAndFindsTheSameNode() throws Exception {
    BisectResult one = overflow().bisect();
    BisectResult three = overflow().parallelism(3).bisect();
    assertThat(three.divergence().get().node()).isEqualTo(one.divergence().get().node());
    JsonNode j = json(three).path("execution");
    assertThat(j.path("parallelism").asInt()).isEqualTo(3);
    assertThat(j.path("rounds").asInt())
        .isPositive()
        .isLessThanOrEqualTo(FirstDivergence.roundBound(4, 3) + 1); // + the preflight's round
    assertThat(json(one).path("execution").path("rounds").asInt())
        .isEqualTo(json(one).path("builds").asInt());
    assertThat(three.report().execution().searchedOn()).isNull();
    assertThatThrownBy(() -> overflow().parallelism(0)).hasMessageContaining("parallelism");
  }

  @Test
  void bisectAfterLayerwiseAfterCompareMakesNoReferenceBuild() throws Exception {
    Path cache = tmp.resolve("ref");
    CompareResult c = overflow().referenceCache(cache).compare();
    assertThat(json(c).path("execution").path("referenceBuilds").asInt()).isEqualTo(1);
    LayerwiseResult l = overflow().referenceCache(cache).layerwise();
    assertThat(json(l).path("execution").path("referenceBuilds").asInt()).isPositive();
    BisectResult b = overflow().referenceCache(cache).bisect();
    assertThat(json(b).path("execution").path("referenceBuilds").asInt()).isZero();
    assertThat(b.divergence().get().node())
        .isEqualTo(overflow().bisect().divergence().get().node());
    // Without the cache every operation runs its reference.
    assertThat(overflow().noReferenceCache().bisect().report().execution().referenceBuilds())
        .isPositive();
  }

  @Test
  void aFileGivenAsTheReferenceCacheIsRefusedAtOnce() throws Exception {
    Path file = java.nio.file.Files.writeString(tmp.resolve("notes.txt"), "mine");
    assertThatThrownBy(() -> overflow().referenceCache(file))
        .isInstanceOf(HalfBisectException.class)
        .hasMessage(
            "reference cache "
                + file
                + ": "
                + file
                + " is a file; give a folder (it is created if missing)");
    // under a file (-Dhalfbisect.cacheDir=/etc/passwd in the CLI): the same, naming the file
    assertThatThrownBy(() -> overflow().referenceCache(file.resolve("reference")))
        .isInstanceOf(HalfBisectException.class)
        .hasMessageEndingWith(": " + file + " is a file; give a folder (it is created if missing)");
    assertThat(java.nio.file.Files.readString(file)).isEqualTo("mine");
    // a folder that does not exist yet is fine: the first run creates it
    assertThat(overflow().referenceCache(tmp.resolve("new/ref")).compare().passed()).isFalse();
    assertThat(tmp.resolve("new/ref")).isDirectory();
  }

  @Test
  void emulationFirstReportsTheEmulationsBuilds() throws Exception {
    // An "emulation" that passes everything (FP32) makes the candidate disagree: the search then
    // runs on the candidate and still finds the plan; the emulation's builds are reported.
    PrecisionResult direct = overflow().searchOn(SearchOn.CANDIDATE).precision();
    PrecisionResult r =
        overflow().searchOn(SearchOn.EMULATION).emulation("interp:fp32").precision();
    assertThat(r.fp32Nodes()).isEqualTo(direct.fp32Nodes());
    JsonNode j = json(r).path("execution");
    assertThat(j.path("searchedOn").asText()).isEqualTo("emulation");
    assertThat(j.path("emulationBuilds").asInt()).isPositive();
    assertThat(json(direct).path("execution").has("emulationBuilds")).isFalse();
    assertThat(json(r).path("warnings").toString())
        .contains("the candidate failed the emulation's plan")
        .contains("the search ran on the candidate");
    assertThatThrownBy(() -> overflow().emulation("ort")).hasMessageContaining("BACKEND:MODE");
  }

  @Test
  void aCandidateErringMoreThanTheEmulationGetsTheStricterEmulationsPlan() throws Exception {
    // "gain" errs exactly twice the interpreter's FP16 emulation; the bound lies between the two
    double e = TestModels.roundingChainError();
    assertThat(e).isPositive();
    PrecisionResult r = gainOverEmulation(Tolerance.normalized(e * 1.5)).precision();
    assertThat(r.passed()).isTrue();
    assertThat(r.fp32Nodes()).isNotEmpty();
    assertThat(json(r).path("warnings").toString())
        .contains("its outputs err 2.00x the emulation's")
        .contains("searched again at a stricter bound")
        // that search began at the all-FP16 ratio while the candidate tried the first plan
        .contains("the candidate passed the plan found at 2.00x");
    // a Polygraphy-style check does not scale with one ratio: no retry, the candidate searches
    PrecisionResult atol = gainOverEmulation(Tolerance.elementwise(1e-3, 0)).precision();
    assertThat(json(atol).path("warnings").toString()).doesNotContain("stricter bound");
  }

  @Test
  void aResumedEmulationFirstSearchReadsTheEmulationsProbesFromItsJournals() throws Exception {
    // issue 18: on MiniLM on an H200 a resumed search repeated 113 s of emulation searches
    Tolerance t = Tolerance.normalized(TestModels.roundingChainError() * 1.5);
    Path journal = tmp.resolve("out").resolve("probes.jsonl");
    java.nio.file.Files.createDirectories(journal.getParent());
    PrecisionResult first = gainOverEmulation(t).journal(journal).precision();
    PrecisionResult again = gainOverEmulation(t).journal(journal).precision();
    assertThat(again.fp32Nodes()).isEqualTo(first.fp32Nodes());
    int firstBuilds = json(first).path("execution").path("emulationBuilds").asInt();
    assertThat(firstBuilds).isPositive();
    // every search whose plan was used is read back; only a search ahead that was stopped at its
    // next round (when, depends on timing) may get a probe further than it did the first time
    assertThat(json(again).path("execution").path("emulationBuilds").asInt())
        .isLessThan(firstBuilds / 2);
    assertThat(json(again).path("warnings").toString())
        .contains("emulation probes from the emulation's journals beside " + journal);
    // the search at the bound, and the calibrated retry's at 2x below it
    try (var files = java.nio.file.Files.list(journal.getParent())) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .contains("probes.jsonl", "emulation-probes.jsonl", "emulation-x2.0000-probes.jsonl");
    }
    // --fresh starts the emulation's journals over too (how many builds a stopped search ahead
    // made before its next round depends on timing, so the count is not compared)
    PrecisionResult fresh = gainOverEmulation(t).freshJournal(journal).precision();
    assertThat(fresh.fp32Nodes()).isEqualTo(first.fp32Nodes());
    assertThat(json(fresh).path("execution").path("emulationBuilds").asInt()).isPositive();
    assertThat(json(fresh).path("warnings").toString()).doesNotContain("emulation's journals");
  }

  /** The chain on the "gain" candidate (twice the emulation's error), searched on emulation. */
  private static HalfBisect gainOverEmulation(Tolerance t) {
    return HalfBisect.model(TestModels.roundingChain(), null, "chain.onnx")
        .reference("interp:fp32")
        .candidate("gain:fp16-emulated")
        .searchOn(SearchOn.EMULATION)
        .emulation("interp:fp16-emulated")
        .tolerance(t);
  }

  @Test
  void autoSearchesOnEmulationFirstOnlyForTensorRt() {
    BackendSpec emu = SearchOn.matchingEmulation(new BackendSpec("trt", "fp16"));
    assertThat(SearchOn.AUTO.emulationFirst(new BackendSpec("trt", "fp16"), emu)).isTrue();
    assertThat(SearchOn.AUTO.emulationFirst(new BackendSpec("interp", "fp16-emulated"), emu))
        .isFalse();
    assertThat(SearchOn.EMULATION.emulationFirst(new BackendSpec("interp", "fp16-emulated"), emu))
        .isTrue();
    assertThat(SearchOn.EMULATION.emulationFirst(emu, emu)).isFalse();
    assertThat(SearchOn.CANDIDATE.emulationFirst(new BackendSpec("trt", "fp16"), emu)).isFalse();
    assertThat(SearchOn.parse("Emulation")).isEqualTo(SearchOn.EMULATION);
    assertThatThrownBy(() -> SearchOn.parse("gpu")).hasMessageContaining("auto, emulation");
  }
}
