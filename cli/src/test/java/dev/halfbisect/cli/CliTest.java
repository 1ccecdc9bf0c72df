package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.bisect.testing.InterpreterBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every subcommand in-process on tiny models with the interpreter test backend. */
class CliTest {
  @TempDir Path tmp;
  Path model;
  Path healthy;
  Path out;
  Path json;

  @BeforeEach
  void models() throws IOException {
    model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    healthy = TestModels.write(TestModels.healthy(), tmp.resolve("healthy.onnx"));
    out = tmp.resolve("out");
    json = tmp.resolve("result.json");
  }

  private CliRun analyse(String command, Path m, String... extra) {
    List<String> args =
        new java.util.ArrayList<>(List.of("--json", json.toString(), "--out", out.toString()));
    args.addAll(List.of(extra));
    return CliRun.onInterpreter(command, m, args);
  }

  private JsonNode json() throws IOException {
    return new ObjectMapper().readTree(json.toFile());
  }

  /** Files under tmp other than the models and what --out/--json allow. */
  private List<Path> strayFiles() throws IOException {
    try (Stream<Path> s = Files.walk(tmp)) {
      return s.filter(Files::isRegularFile)
          .filter(
              p -> !p.startsWith(out) && !p.equals(json) && !p.equals(model) && !p.equals(healthy))
          .collect(Collectors.toList());
    }
  }

  @Test
  void compareExitCodesAndJson() throws IOException {
    CliRun fail = analyse("compare", model);
    assertThat(fail.exit()).as(fail.err()).isEqualTo(1);
    assertThat(fail.out()).contains("FAIL", "out");
    JsonNode j = json();
    assertThat(j.path("schema").asText()).isEqualTo("halfbisect/1");
    assertThat(j.path("command").asText()).isEqualTo("compare");
    assertThat(j.path("model").asText()).isEqualTo(model.toString()); // the path as given
    assertThat(j.path("backend").path("candidate").asText()).isEqualTo("interp:fp16-emulated");
    assertThat(j.path("verdict").asText()).isEqualTo("fail");
    assertThat(j.path("builds").asInt()).isEqualTo(1);
    assertThat(out.resolve("report.html")).isRegularFile();
    assertThat(out.resolve("report.md")).isRegularFile();
    assertThat(strayFiles()).isEmpty();

    CliRun pass = analyse("compare", healthy);
    assertThat(pass.exit()).as(pass.err()).isZero();
    assertThat(json().path("verdict").asText()).isEqualTo("pass");
  }

  @Test
  void layerwiseListsTensorsAndFirstFailing() throws IOException {
    CliRun r = analyse("layerwise", model);
    assertThat(r.exit()).isEqualTo(1);
    JsonNode j = json();
    assertThat(j.path("tensors")).hasSize(4);
    JsonNode t = j.path("tensors").get(0);
    for (String f : List.of("name", "node", "opType", "normalizedError", "maxAbs", "verdict")) {
      assertThat(t.has(f)).as(f).isTrue();
    }
    assertThat(j.path("firstFailing").path("node").asText()).isEqualTo("square");
    assertThat(r.out()).contains("squared", "square");
  }

  @Test
  void bisectAmplifyReduceDiagnose() throws IOException {
    assertThat(analyse("bisect", model).exit()).isEqualTo(1);
    assertThat(json().path("firstFailing").path("node").asText()).isEqualTo("square");
    assertThat(json().path("firstFailing").path("opType").asText()).isEqualTo("Pow");

    assertThat(analyse("amplify", model).exit()).isEqualTo(1);
    JsonNode a = json();
    assertThat(a.path("nodes").get(0).fieldNames())
        .toIterable()
        .contains("node", "opType", "localError", "inputError", "outputError", "amplification");
    assertThat(a.path("byOpType").has("Pow")).isTrue();

    assertThat(analyse("reduce", model).exit()).isEqualTo(1);
    assertThat(out.resolve("reduced.onnx")).isRegularFile();

    CliRun d = analyse("diagnose", model);
    assertThat(d.exit()).isEqualTo(1);
    assertThat(d.out()).contains("square", "shrink");
    assertThat(json().path("fp32Nodes")).hasSize(2);
    assertThat(out.resolve("report.json")).isRegularFile();
    assertThat(strayFiles()).isEmpty();
  }

  @Test
  void precisionWritesPlanFilesUnderOut() throws IOException {
    CliRun r = analyse("precision", model);
    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode j = json();
    assertThat(j.path("fp32Nodes").toString()).isEqualTo("[\"shrink\",\"square\"]");
    assertThat(j.path("fp16Fraction").asDouble()).isEqualTo(0.5);
    assertThat(Files.readString(out.resolve("trtexec-flags.txt")))
        .contains("--precisionConstraints=obey");
    assertThat(out.resolve("plan.json")).isRegularFile();
    assertThat(out.resolve("model-fp16.onnx")).isRegularFile();
    assertThat(CliRun.of("inspect", out.resolve("model-fp16.onnx").toString()).out())
        .contains("Cast");
    // The plan makes compare pass.
    CliRun c = analyse("compare", model, "--plan", out.resolve("plan.json").toString());
    assertThat(c.exit()).as(c.out()).isZero();
    assertThat(strayFiles()).isEmpty();
  }

  @Test
  void maxBuildsCapsThePrecisionSearchAndSaysSo() throws IOException {
    CliRun pinned = analyse("precision", model);
    assertThat(pinned.exit()).isZero();
    assertThat(json().path("warnings").toString())
        .contains("overflows in them on their own", "--allow-overflow");
    // Without the up-front overflow pins the search is long enough for a cap to cut it short.
    CliRun full = analyse("precision", model, "--allow-overflow", "--fresh");
    int fullBuilds = json().path("builds").asInt();
    assertThat(json().path("warnings").toString()).doesNotContain("overflows in them on their own");
    // --fresh: the journal under --out would answer these runs without builds (issue 16).
    CliRun capped = analyse("precision", model, "--allow-overflow", "--max-builds", "1", "--fresh");
    JsonNode j = json();
    assertThat(j.path("builds").asInt()).as(capped.err()).isLessThan(fullBuilds);
    assertThat(j.path("warnings").toString()).contains("build budget ran out");
    assertThat(full.exit()).isZero();
    CliRun bad = analyse("precision", model, "--max-builds", "0");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("--max-builds");
  }

  @Test
  void observationLimitsChangeTheBuildsNotTheAnswer() throws IOException {
    CliRun all = analyse("layerwise", model);
    JsonNode one = json();
    CliRun split = analyse("layerwise", model, "--observe-max", "1");
    JsonNode many = json();
    assertThat(split.exit()).isEqualTo(all.exit());
    assertThat(many.path("builds").asInt())
        .as(split.err())
        .isGreaterThan(one.path("builds").asInt());
    assertThat(many.path("firstFailing")).isEqualTo(one.path("firstFailing"));
    assertThat(many.path("tensors").size()).isEqualTo(one.path("tensors").size());
    CliRun noCache = analyse("diagnose", model, "--reference-cache-mib", "0");
    assertThat(noCache.exit()).as(noCache.err()).isIn(0, 1);
    assertThat(analyse("diagnose", model, "--reference-cache-mib", "-1").err())
        .contains("--reference-cache-mib must be between 0 and");
    CliRun bad = analyse("layerwise", model, "--observe-mib", "0");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("--observe-mib must be between 1 and");
  }

  @Test
  void buildsThatFailForTheirSizeAreReportedWithTheObserveMaxToStartFrom() throws IOException {
    System.setProperty(InterpreterBackend.MAX_OBSERVED_PROPERTY, "1");
    CliRun r;
    try {
      r = analyse("layerwise", model);
    } finally {
      System.clearProperty(InterpreterBackend.MAX_OBSERVED_PROPERTY);
    }
    assertThat(r.exit()).as(r.err()).isEqualTo(1);
    JsonNode j = json();
    assertThat(j.path("tensors")).hasSize(4);
    assertThat(j.path("warnings").toString()).contains("--observe-max 1 starts there");
    assertThat(r.out() + r.err()).contains("--observe-max 1 starts there");
  }

  @Test
  void reportRerendersJson() throws IOException {
    analyse("layerwise", model);
    Path again = tmp.resolve("again");
    CliRun r = CliRun.of("report", json.toString(), "--out", again.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).contains("squared");
    assertThat(Files.readString(again.resolve("report.html"))).contains("<table");
    assertThat(again.resolve("report.md")).isRegularFile();
  }

  @Test
  void surgeonMarkExtractSanitizeAndInspect() throws IOException {
    Path marked = tmp.resolve("marked.onnx");
    CliRun m =
        CliRun.of(
            "surgeon",
            "mark",
            model.toString(),
            "--tensors",
            "squared,shrunk",
            "-o",
            marked.toString());
    assertThat(m.exit()).as(m.err()).isZero();
    CliRun i = CliRun.of("inspect", marked.toString());
    assertThat(i.exit()).as(i.err()).isZero();
    assertThat(i.out()).contains("outputs:", "squared", "shrunk", "Mul", "opset 17");

    Path all = tmp.resolve("all.onnx");
    assertThat(CliRun.of("surgeon", "mark", model.toString(), "--all", "-o", all.toString()).exit())
        .isZero();
    Path cut = tmp.resolve("cut.onnx");
    CliRun e =
        CliRun.of(
            "surgeon",
            "extract",
            model.toString(),
            "--inputs",
            "scaled",
            "--outputs",
            "shrunk",
            "-o",
            cut.toString());
    assertThat(e.exit()).as(e.err()).isZero();
    assertThat(CliRun.of("inspect", cut.toString()).out()).contains("Pow", "inputs:", "scaled");
    assertThat(
            CliRun.of(
                    "surgeon", "sanitize", model.toString(), "-o", tmp.resolve("s.onnx").toString())
                .exit())
        .isZero();
    Path plan = Files.writeString(tmp.resolve("plan.json"), "{\"fp32Nodes\": [\"square\"]}");
    Path fp16 = tmp.resolve("fp16.onnx");
    CliRun f =
        CliRun.of(
            "surgeon", "fp16", model.toString(), "--plan", plan.toString(), "-o", fp16.toString());
    assertThat(f.exit()).as(f.err()).isZero();
    assertThat(CliRun.of("inspect", fp16.toString()).out()).contains("Cast");
    Path emu = tmp.resolve("emu.onnx");
    assertThat(CliRun.of("surgeon", "emulate", model.toString(), "-o", emu.toString()).exit())
        .isZero();
    assertThat(CliRun.of("inspect", emu.toString()).out()).contains("Cast");
    Path badPlan = Files.writeString(tmp.resolve("bad.json"), "{\"fp32Nodes\": [\"sqare\"]}");
    assertOneLineUsage(
        CliRun.of(
            "surgeon",
            "fp16",
            model.toString(),
            "--plan",
            badPlan.toString(),
            "-o",
            tmp.resolve("x.onnx").toString()),
        "sqare");
  }

  @Test
  void inspectNpz() throws IOException {
    Path npz = tmp.resolve("in.npz");
    NpzFixture.writeFloatNpz(npz, "x", new long[] {1, 16}, 0.25f);
    CliRun r = CliRun.of("inspect", npz.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("x", "float32", "[1x16]", "mean 0.25");
    CliRun c = analyse("compare", model, "--load-inputs", npz.toString());
    assertThat(c.exit()).as(c.err()).isZero();
  }

  @Test
  void usageErrorsAreOneLineExit2() {
    assertOneLineUsage(
        CliRun.of("compare", model.toString(), "--no-such-option"), "--no-such-option");
    assertOneLineUsage(
        CliRun.of("compare", tmp.resolve("missing.onnx").toString()), "model file not found");
    assertOneLineUsage(
        analyse("compare", model, "--input", "nosuch:1x16:float32:0"), "has no input 'nosuch'");
    assertOneLineUsage(
        analyse("compare", model, "--input", "x:1x8:float32:0"), "expects x float32 [1x16]");
    assertOneLineUsage(
        analyse("compare", model, "--plan", tmp.resolve("none.json").toString()), "file not found");
    assertOneLineUsage(
        CliRun.of("compare", model.toString(), "--candidate", "warp:fp8"),
        "unknown backend 'warp'");
    assertOneLineUsage(analyse("compare", model, "--check", "median"), "needs --atol");
    assertOneLineUsage(
        CliRun.of(
            "surgeon",
            "mark",
            model.toString(),
            "--tensors",
            "sqaured",
            "-o",
            tmp.resolve("m.onnx").toString()),
        "sqaured");
    assertOneLineUsage(
        CliRun.of("demo", "--example", "nosuch", "--out", out.toString()), "unknown example");
    assertOneLineUsage(CliRun.of(), "missing subcommand");
  }

  private static void assertOneLineUsage(CliRun r, String expected) {
    assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.errLine()).contains(expected).doesNotContain("\n").doesNotContain("\tat ");
  }

  @Test
  void modelAndBackendErrorsExit3() throws IOException {
    Path corrupt = Files.write(tmp.resolve("corrupt.onnx"), new byte[] {8, 1, 0x3a, 0x7f, 1, 2, 3});
    CliRun c =
        CliRun.of(
            "compare",
            corrupt.toString(),
            "--reference",
            "interp:fp32",
            "--candidate",
            "interp:fp16-emulated");
    assertThat(c.exit()).as(c.err()).isEqualTo(3);
    assertThat(c.errLine()).contains("corrupt.onnx").doesNotContain("\n");
    Path bad = TestModels.write(TestModels.unbuildable(), tmp.resolve("bad.onnx"));
    CliRun b =
        CliRun.of(
            "compare",
            bad.toString(),
            "--reference",
            "interp:fp32",
            "--candidate",
            "interp:fp16-emulated");
    assertThat(b.exit()).isEqualTo(3);
    assertThat(b.errLine()).contains("op Fail");
    CliRun v =
        CliRun.of(
            "compare",
            bad.toString(),
            "--reference",
            "interp:fp32",
            "--candidate",
            "interp:fp16-emulated",
            "--verbose");
    assertThat(v.err()).contains("\tat ");
  }

  @Test
  void helpListsSubcommands() {
    CliRun r = CliRun.of("--help");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains(
            "compare",
            "layerwise",
            "bisect",
            "amplify",
            "precision",
            "reduce",
            "diagnose",
            "report",
            "surgeon",
            "inspect",
            "demo");
  }
}
