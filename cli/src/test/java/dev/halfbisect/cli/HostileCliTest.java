package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.bisect.ProbeJournal;
import dev.halfbisect.cli.testing.SlowBackend;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npz;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile-user suite of issue 16, run by {@code .ci/run}: symlinked outputs, a FIFO target,
 * inputs named as outputs, kill -9 of a child JVM in the middle of {@code precision} and a resumed
 * run making exactly the missing builds, a NaN reference, out of memory at a small -Xmx, control
 * characters in names, hostile Constant external data and the one-line errors of the "causes
 * dropped" list. Each case asserts the exit code, the one-line message and that nothing outside
 * {@code --out} changed (the work folder is snapshotted before and after). docs/reliability.md
 * lists the cases.
 */
class HostileCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  private Path work;
  private Path out;
  private Path overflow;

  @BeforeEach
  void setUp() throws IOException {
    work = Files.createDirectories(tmp.resolve("work"));
    out = work.resolve("out");
    overflow = TestModels.write(TestModels.overflow(), work.resolve("overflow.onnx"));
  }

  // ------------------------------------------------------------------ files

  @Test
  void symlinkedOutputsAreReplacedAndTheFilesTheyPointToAreUntouched() throws IOException {
    Files.createDirectories(out);
    List<Path> victims = new ArrayList<>();
    for (String f :
        List.of(
            "report.json",
            "report.md",
            "report.html",
            "plan.json",
            "trtexec-flags.txt",
            "model-fp16.onnx")) {
      Path victim = Files.writeString(work.resolve("victim-" + f), "precious " + f);
      Files.createSymbolicLink(out.resolve(f), victim);
      victims.add(victim);
    }
    Path json = Files.createSymbolicLink(work.resolve("ci.json"), victims.get(0));
    Path saved = Files.createSymbolicLink(work.resolve("saved.npz"), victims.get(1));
    Map<Path, String> before = snapshot(work);
    CliRun r =
        interp(
            "precision",
            overflow.toString(),
            "--out",
            out.toString(),
            "--json",
            json.toString(),
            "--save-outputs",
            saved.toString());
    assertThat(r.exit()).as(r.err()).isEqualTo(Main.PASS);
    for (Path v : victims) {
      assertThat(Files.readString(v)).startsWith("precious ");
    }
    for (String f : List.of("report.json", "plan.json", "model-fp16.onnx")) {
      assertThat(Files.isRegularFile(out.resolve(f), LinkOption.NOFOLLOW_LINKS)).as(f).isTrue();
    }
    Map<Path, String> after = snapshot(work);
    // Only the --json and --save-outputs links were replaced (entries of the work folder).
    assertThat(without(after, out, json, saved)).isEqualTo(without(before, out, json, saved));
    assertThat(Files.isSymbolicLink(json)).isFalse();
    assertThat(Files.isSymbolicLink(saved)).isFalse();
    assertThat(JSON.readTree(json.toFile()).path("schema").asText()).isEqualTo("halfbisect/1");
  }

  @Test
  void aSymlinkedJournalIsRefusedBeforeAnyBuild() throws IOException {
    Files.createDirectories(out);
    Path victim = Files.writeString(work.resolve("bashrc"), "alias ls=ls");
    Files.createSymbolicLink(out.resolve("probes.jsonl"), victim);
    Map<Path, String> before = snapshot(work);
    CliRun r = interp("precision", overflow.toString(), "--out", out.toString());
    assertThat(r.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(r))
        .isEqualTo(
            "halfbisect: refusing to write "
                + out.resolve("probes.jsonl")
                + ": it is a symbolic link");
    assertThat(snapshot(work)).isEqualTo(before);
  }

  @Test
  void fifoAndDirectoryTargetsAreUsageErrorsBeforeTheAnalysis() throws IOException {
    Path fifo = work.resolve("fifo");
    assumeTrue(mkfifo(fifo), "mkfifo not available");
    Files.createDirectories(out.resolve("report.html"));
    Map<Path, String> before = snapshot(work);

    CliRun json = interp("compare", overflow.toString(), "--json", fifo.toString());
    assertThat(json.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(json))
        .isEqualTo(
            "halfbisect: refusing to write "
                + fifo
                + ": it exists and is a device, FIFO or socket, not a regular file");
    assertThat(json.out()).as("nothing analysed").isEmpty();

    CliRun dir = interp("diagnose", overflow.toString(), "--out", out.toString());
    assertThat(dir.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(dir))
        .contains(out.resolve("report.html") + ": it exists and is a directory");

    CliRun outIsFifo = interp("diagnose", overflow.toString(), "--out", fifo.toString());
    assertThat(outIsFifo.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(outIsFifo)).contains(fifo + ": it exists and is a device, FIFO or socket");

    CliRun surgeon = CliRun.of("surgeon", "sanitize", overflow.toString(), "-o", fifo.toString());
    assertThat(surgeon.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(surgeon)).contains("refusing to write " + fifo);
    assertThat(snapshot(work)).isEqualTo(before);
  }

  @Test
  void theRunsOwnInputsAreNeverWrittenOver() throws IOException {
    Path weights = work.resolve("w.bin");
    Path model = externalWeightsModel(work, "w.bin");
    Path inputs = work.resolve("inputs.npz");
    Npz.write(inputs, Map.of("x", Tensor.ofFloats(new long[] {1, 4}, 1, 2, 3, 4)));
    Map<Path, String> before = snapshot(work);

    CliRun ownWeights =
        CliRun.of("surgeon", "sanitize", model.toString(), "-o", weights.toString());
    assertThat(ownWeights.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(ownWeights))
        .isEqualTo(
            "halfbisect: refusing to write "
                + weights
                + ": it is an input of this run ("
                + weights.toAbsolutePath()
                + ")");
    CliRun ownModel = CliRun.of("surgeon", "sanitize", model.toString(), "-o", model.toString());
    assertThat(ownModel.exit()).isEqualTo(Main.USAGE);
    CliRun json = interp("compare", model.toString(), "--json", model.toString());
    assertThat(json.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(json)).contains("it is an input of this run");
    // --save-outputs, perf's --md and --json, demo --model's --out: checked the same way (they
    // were written without a check: --save-outputs and perf --md replaced the model)
    for (CliRun r :
        List.of(
            interp("compare", model.toString(), "--save-outputs", model.toString()),
            interp("compare", model.toString(), "--save-outputs", weights.toString()),
            interp("perf", model.toString(), "--md", model.toString()),
            interp("perf", model.toString(), "--json", weights.toString()),
            CliRun.of(
                "demo",
                "--example",
                "clip-vit",
                "--model",
                model.toString(),
                "--out",
                weights.toString(),
                "--quiet"))) {
      assertThat(r.exit()).as(r.err()).isEqualTo(Main.USAGE);
      assertThat(oneLine(r))
          .containsAnyOf("it is an input of this run", "it exists and is a file, not a folder");
    }
    // reduce writes inputs.npz under --out: --out the folder of --load-inputs inputs.npz is
    // refused.
    CliRun reduce =
        interp(
            "reduce",
            model.toString(),
            "--load-inputs",
            inputs.toString(),
            "--out",
            work.toString());
    assertThat(reduce.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(reduce)).contains("refusing to write " + inputs);
    assertThat(snapshot(work)).isEqualTo(before);

    // -o elsewhere: the output embeds the weights, so it works without w.bin beside it.
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere")).resolve("clean.onnx");
    assertThat(
            CliRun.of("surgeon", "sanitize", model.toString(), "-o", elsewhere.toString()).exit())
        .isZero();
    assertThat(interp("compare", elsewhere.toString(), "--load-inputs", inputs.toString()).exit())
        .isZero();
  }

  @Test
  void demoKeepsAForeignModelInItsOutFolder() throws IOException {
    Path demoOut = Files.createDirectories(work.resolve("demo"));
    Files.writeString(demoOut.resolve("model.onnx"), "my own model");
    Map<Path, String> before = snapshot(work);
    CliRun r = CliRun.of("demo", "--out", demoOut.toString(), "--quiet");
    assertThat(r.exit()).isEqualTo(Main.USAGE);
    assertThat(oneLine(r))
        .isEqualTo(
            "halfbisect: "
                + demoOut.resolve("model.onnx")
                + " exists and is not this demo's model; choose another --out or remove it");
    assertThat(snapshot(work)).isEqualTo(before);
  }

  // ------------------------------------------------------------------ resumption

  @Test
  void killedPrecisionResumesWithExactlyTheMissingBuilds() throws Exception {
    String[] args = slowPrecision();
    // The whole search, uninterrupted, in this JVM: B builds.
    Path full = tmp.resolve("full");
    CliRun whole = CliRun.of(concat(args, "--out", full.toString(), "--json", full + "/r.json"));
    assertThat(whole.exit()).as(whole.err()).isEqualTo(Main.PASS);
    int total = JSON.readTree(full.resolve("r.json").toFile()).path("builds").asInt();
    assertThat(total).as("enough builds to kill in the middle").isGreaterThanOrEqualTo(6);

    // A child JVM building slowly, killed with SIGKILL once 3 probes are journaled.
    Map<Path, String> before = snapshot(work);
    Path journal = out.resolve("probes.jsonl");
    Process p = searchingChild(concat(args, "--out", out.toString()), journal, 3);
    p.destroyForcibly(); // SIGKILL: no shutdown hooks, no flush
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(137);
    int journaled = probeLines(journal);
    assertThat(journaled).isBetween(3, total - 1);
    assertThat(Files.exists(out.resolve("report.json"))).isFalse();

    // The same command again: resumes and makes only the builds not yet decided.
    CliRun resumed = CliRun.of(concat(args, "--out", out.toString(), "--json", out + "/r.json"));
    assertThat(resumed.exit()).as(resumed.err()).isEqualTo(Main.PASS);
    JsonNode r = JSON.readTree(out.resolve("r.json").toFile());
    assertThat(r.path("builds").asInt()).isEqualTo(total - journaled);
    assertThat(resumed.out())
        .contains("resumed: " + journaled + " of " + total + " probes from the journal");
    assertThat(r.path("fp32Nodes"))
        .isEqualTo(JSON.readTree(full.resolve("r.json").toFile()).path("fp32Nodes"));
    assertThat(without(snapshot(work), out)).isEqualTo(without(before, out));

    // --fresh ignores the journal: every build again.
    CliRun fresh =
        CliRun.of(concat(args, "--out", out.toString(), "--json", out + "/r.json", "--fresh"));
    assertThat(fresh.exit()).isEqualTo(Main.PASS);
    assertThat(JSON.readTree(out.resolve("r.json").toFile()).path("builds").asInt())
        .isEqualTo(total);
    assertThat(fresh.out()).doesNotContain("resumed:");
  }

  @Test
  void aStoppedPrecisionSaysWhatItsJournalHoldsAndHowToResume() throws Exception {
    // Ctrl-C, kill or a time limit (SIGINT/SIGTERM): the command used to end with exit 143 and
    // nothing on the terminal
    Path journal = out.resolve("probes.jsonl");
    Process p = searchingChild(concat(slowPrecision(), "--out", out.toString()), journal, 2);
    p.destroy(); // SIGTERM: shutdown hooks run
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(143);
    String[] lines = readLog("stderr").strip().split("\\R");
    assertThat(lines[lines.length - 1])
        .matches(
            "halfbisect: interrupted after 0:\\d\\d; "
                + probeLines(journal)
                + " probes are journaled in "
                + java.util.regex.Pattern.quote(out.toString())
                + ": the same command resumes from them \\(--fresh starts over\\)");
  }

  @Test
  void onnxRuntimeLeavesNoTempFolderAndKeepsItsNativeLogQuiet() throws Exception {
    Path childTmp = Files.createDirectories(tmp.resolve("child-tmp"));
    Path cache = tmp.resolve("cache");
    Map<Path, String> before = snapshot(work);
    Process p =
        child(
            List.of("-Djava.io.tmpdir=" + childTmp, "-Dhalfbisect.cacheDir=" + cache),
            "compare",
            overflow.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--quiet");
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as(log("stderr") + log("hs_err.log"))
        .isEqualTo(Main.ACCURACY_FAILURE);
    assertThat(log("stderr")).as("no native log lines").isEmpty();
    try (Stream<Path> s = Files.list(childTmp)) {
      assertThat(s.map(Path::getFileName).map(Path::toString))
          .as("ONNX Runtime's natives come from the cache folder, no temp folder is left")
          .noneMatch(n -> n.startsWith("onnxruntime-java"));
    }
    assertThat(Path.of("/tmp", "mat-debug-" + p.pid() + ".log")).doesNotExist();
    try (Stream<Path> s = Files.walk(cache)) {
      assertThat(s.map(Path::getFileName).map(Path::toString))
          .contains(System.mapLibraryName("onnxruntime"));
    }
    assertThat(snapshot(work)).isEqualTo(before);
  }

  // ------------------------------------------------------------------ failures

  @Test
  void aNanReferenceIsExit3NeverAPass() throws IOException {
    Path model = TestModels.write(TestModels.healthy(), work.resolve("healthy.onnx"));
    float[] x = new float[8];
    Arrays.fill(x, 0.5f);
    x[2] = Float.NaN;
    Path nan = work.resolve("nan.npz");
    Npz.write(nan, Map.of("x", Tensor.ofFloats(new long[] {1, 8}, x)));
    Map<Path, String> before = snapshot(work);
    for (String cmd : List.of("compare", "precision", "diagnose")) {
      CliRun r =
          interp(cmd, model.toString(), "--load-inputs", nan.toString(), "--out", out.toString());
      assertThat(r.exit()).as(cmd).isEqualTo(Main.MODEL_OR_BACKEND);
      assertThat(oneLine(r))
          .isEqualTo(
              "halfbisect: error: the FP32 reference is not finite at y (1 of 8 values) on these inputs");
    }
    assertThat(without(snapshot(work), out)).isEqualTo(without(before, out));
  }

  @Test
  void outOfMemoryAtASmallHeapIsExit3WithTheRemedy() throws Exception {
    GraphBuilder b = GraphBuilder.create("wide", 17);
    String x = b.input("x", DType.FLOAT32, 1, 1 << 20);
    b.output(b.relu(x));
    Path model = work.resolve("wide.onnx");
    Files.write(model, b.buildProto().toByteArray());
    Map<Path, String> before = snapshot(work);
    Process p =
        child(
            List.of("-Xmx48m"),
            "compare",
            model.toString(),
            "--reference",
            "interp:fp32",
            "--candidate",
            "interp:fp16-emulated",
            "--samples",
            "10",
            "--quiet");
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String err = log("stderr");
    assertThat(p.exitValue()).as(err).isEqualTo(Main.MODEL_OR_BACKEND);
    assertThat(err.strip()).doesNotContain("\n").doesNotContain("\tat ");
    assertThat(err.strip())
        .startsWith("halfbisect: error: out of memory (Java heap space): ")
        .endsWith(Failures.OUT_OF_MEMORY_REMEDY)
        .contains("HALFBISECT_JAVA_OPTS=-Xmx");
    assertThat(snapshot(work)).isEqualTo(before);
  }

  @Test
  void controlCharactersInNamesAreEscapedOnTheTerminalAndInMarkdown() throws IOException {
    String evil = "sq\u001b[2J\u001b[H\u001b[32mPASS\u001b[0m\r\nuare";
    Onnx.ModelProto m = TestModels.overflow();
    Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
    for (int i = 0; i < g.getNodeCount(); i++) {
      if (g.getNode(i).getName().equals("square")) {
        g.setNode(i, g.getNode(i).toBuilder().setName(evil).setOutput(0, evil + "_out"));
      } else if (g.getNode(i).getName().equals("shrink")) {
        g.setNode(i, g.getNode(i).toBuilder().setInput(0, evil + "_out"));
      }
    }
    Path model = work.resolve("evil.onnx");
    Files.write(model, m.toBuilder().setGraph(g).build().toByteArray());
    CliRun r = interp("diagnose", model.toString(), "--out", out.toString());
    assertThat(r.exit()).as(r.err()).isIn(Main.PASS, Main.ACCURACY_FAILURE);
    String md = Files.readString(out.resolve("report.md"));
    for (String text : List.of(r.out(), r.err(), md)) {
      assertThat(text.replace("\n", "").chars().filter(c -> c < 0x20 || c == 0x7f)).isEmpty();
    }
    assertThat(r.out()).contains("sq\\x1b[2J\\x1b[H\\x1b[32mPASS\\x1b[0m\\x0d\\x0auare");
    assertThat(md).contains("\\x1b[2J");
    // Every command's stdout is escaped, inspect's node listing included.
    CliRun inspect = CliRun.of("inspect", model.toString());
    assertThat(inspect.exit()).as(inspect.err()).isZero();
    assertThat(inspect.out().replace("\n", "").chars().filter(c -> c < 0x20 || c == 0x7f))
        .isEmpty();
    // An error line quoting a name is escaped too.
    CliRun bad =
        CliRun.of(
            "surgeon",
            "mark",
            model.toString(),
            "--tensors",
            "no\u001b[2Jsuch",
            "-o",
            out + "/m.onnx");
    assertThat(bad.exit()).isEqualTo(Main.USAGE);
    assertThat(bad.err()).doesNotContain("\u001b").contains("no\\x1b[2Jsuch");
  }

  @Test
  void hostileConstantExternalDataIsRejectedAndNotCopied() throws IOException {
    Path secret = Files.writeString(tmp.resolve("secret"), "0123456789abcdef");
    Path model = Files.createDirectories(work.resolve("m")).resolve("hostile.onnx");
    Files.write(model, constantExternalModel("../../secret").toByteArray());
    Path absModel = work.resolve("m/abs.onnx");
    Files.write(absModel, constantExternalModel(secret.toString()).toByteArray());
    Map<Path, String> before = snapshot(work);
    for (Path mdl : List.of(model, absModel)) {
      CliRun c = interp("compare", mdl.toString(), "--out", out.toString());
      assertThat(c.exit()).as(c.err()).isEqualTo(Main.MODEL_OR_BACKEND);
      assertThat(oneLine(c)).contains("'kc'");
      CliRun s = CliRun.of("surgeon", "sanitize", mdl.toString(), "-o", out + "/copy.onnx");
      assertThat(s.exit()).isEqualTo(Main.MODEL_OR_BACKEND);
      assertThat(oneLine(s)).contains("'kc'");
      assertThat(Files.exists(out.resolve("copy.onnx"))).isFalse();
    }
    assertThat(Files.readString(secret)).isEqualTo("0123456789abcdef");
    assertThat(without(snapshot(work), out)).isEqualTo(without(before, out));
  }

  @Test
  void droppedCausesAreNowOneLineErrorsSayingWhatIsWrong() throws IOException {
    Path binaryPlan = work.resolve("plan.json");
    Files.write(binaryPlan, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
    Path zero = work.resolve("zero.onnx");
    GraphBuilder b = GraphBuilder.create("zero", 17);
    b.output(b.relu(b.input("x", DType.FLOAT32, 0, 4)));
    Files.write(zero, b.buildProto().toByteArray());
    Map<Path, String> before = snapshot(work);

    assertError(
        interp("compare", overflow.toString(), "--plan", binaryPlan.toString()),
        Main.USAGE,
        "halfbisect: --plan " + binaryPlan + " is not a precision plan: not UTF-8 text");
    assertError(
        interp("compare", overflow.toString(), "--observe-mib", Long.toString(Long.MAX_VALUE)),
        Main.USAGE,
        "halfbisect: --observe-mib must be between 1 and 8796093022207, got 9223372036854775807");
    assertError(
        interp("compare", work.toString()),
        Main.USAGE,
        "halfbisect: model " + work + " is a directory; expected an ONNX model file (.onnx)");
    assertError(
        interp("compare", zero.toString()),
        Main.USAGE,
        "halfbisect: input 'x' of " + zero + " declares an empty shape 0x4 (a dim of 0)");
    assertError(
        interp(
            "compare",
            overflow.toString(),
            "--input",
            "x:1x16:float32:0..1",
            "--input",
            "x:1x16:float32:5"),
        Main.USAGE,
        "halfbisect: --input x is given more than once");
    assertThat(snapshot(work)).isEqualTo(before);

    // a trial by a hostile user, 2026-12-04: these were exit 3, exit 0 or quietly wrong
    Path inputs = work.resolve("in.npz");
    Npz.write(inputs, Map.of("x", Tensor.ofFloats(new long[] {1, 16}, new float[16])));
    Path truncated = work.resolve("truncated.npz");
    Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(inputs), 30));
    Path empty = work.resolve("empty.npz");
    Npz.write(empty, Map.of());
    Path plan = work.resolve("pinned.json");
    Files.writeString(plan, "{\"fp32Nodes\": [], \"fp32Nodez\": [\"square\"]}");
    Path fp16plan = work.resolve("fp16plan.json");
    Files.writeString(fp16plan, "{\"fp32Nodes\": []}");
    Map<Path, String> beforeMore = snapshot(work);
    assertError(
        CliRun.of(
            "compare",
            overflow.toString(),
            "--reference",
            "ort:fp16-emulated",
            "--candidate",
            "ort:fp32",
            "--quiet"),
        Main.USAGE,
        "halfbisect: reference ort:fp16-emulated is a low-precision mode; the reference is the"
            + " full-precision run the candidate is measured against: give ort:fp32");
    assertError(
        interp("compare", overflow.toString(), "--load-inputs", truncated.toString()),
        Main.USAGE,
        "halfbisect: cannot read inputs " + truncated + ": ");
    assertError(
        interp("compare", overflow.toString(), "--load-inputs", empty.toString()),
        Main.USAGE,
        "halfbisect: inputs "
            + empty
            + " holds no arrays; expected arrays named like the"
            + " model's inputs [x]");
    assertError(
        interp("compare", overflow.toString(), "--load-outputs", inputs.toString()),
        Main.USAGE,
        "halfbisect: --load-outputs " + inputs + ": not a halfbisect outputs file");
    assertError(
        interp("compare", overflow.toString(), "--plan", plan.toString()),
        Main.USAGE,
        "halfbisect: --plan " + plan + ": precision plan has an unknown field 'fp32Nodez'");
    assertError(
        CliRun.of(
            "surgeon",
            "fp16",
            overflow.toString(),
            "--plan",
            fp16plan.toString(),
            "-o",
            fp16plan.toString()),
        Main.USAGE,
        "halfbisect: refusing to write " + fp16plan + ": it is an input of this run");
    assertError(
        CliRun.of("surgeon", "mark", overflow.toString(), "-o", work.resolve("m.onnx").toString()),
        Main.USAGE,
        "halfbisect: Missing required argument");
    assertThat(
            CliRun.of(
                    "surgeon", "mark", overflow.toString(), "-o", work.resolve("m.onnx").toString())
                .errLine())
        .endsWith("(see 'halfbisect surgeon mark --help')");
    assertError(
        CliRun.of(
            "surgeon",
            "extract",
            overflow.toString(),
            "--inputs",
            "squared",
            "--outputs",
            "out",
            "-o",
            work.resolve("e.onnx").toString()),
        Main.USAGE,
        "halfbisect: model ");
    assertThat(snapshot(work)).isEqualTo(beforeMore);
    assertError(
        interp("compare", overflow.toString(), "--samples", Integer.toString(Integer.MAX_VALUE)),
        Main.MODEL_OR_BACKEND,
        "halfbisect: error: out of memory: 2147483647 samples of the inputs need 131071 MiB, more "
            + "than the ");
  }

  // ------------------------------------------------------------------ helpers

  private static void assertError(CliRun r, int exit, String start) {
    assertThat(r.exit()).as(r.err()).isEqualTo(exit);
    assertThat(oneLine(r)).startsWith(start);
  }

  private static CliRun interp(String... args) {
    return CliRun.of(
        concat(
            args, "--reference", "interp:fp32", "--candidate", "interp:fp16-emulated", "--quiet"));
  }

  /** stderr, asserted to be one line without a stack trace. */
  private static String oneLine(CliRun r) {
    String e = r.errLine();
    assertThat(e).as("one line").doesNotContain("\n").doesNotContain("\tat ");
    return e;
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** {@code precision} of a 4-block chain on the {@code slow} candidate, 2 samples, quiet. */
  private String[] slowPrecision() throws IOException {
    Path model = work.resolve("chain.onnx");
    Files.write(model, chain(4).toByteArray());
    return new String[] {
      "precision",
      model.toString(),
      "--reference",
      "ort:fp32",
      "--candidate",
      "slow:fp16-emulated",
      "--allow-overflow",
      "--quiet",
      "--samples",
      "2"
    };
  }

  /**
   * {@code args} in a child JVM whose candidate builds take 0.7 s each, once {@code journal} holds
   * {@code probes} decided probes and the child is still searching.
   */
  private Process searchingChild(String[] args, Path journal, int probes) throws Exception {
    Process p = child(List.of("-D" + SlowBackend.PAUSE + "=700"), args);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    while (probeLines(journal) < probes && p.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(p.isAlive())
        .as(() -> "child still searching: " + childExit(p) + log("stdout") + log("stderr"))
        .isTrue();
    return p;
  }

  /** Starts {@code halfbisect} in a child JVM on the test class path; output under tmp/logs. */
  private Process child(List<String> jvm, String... args) throws IOException {
    Path logs = Files.createDirectories(tmp.resolve("logs"));
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:TieredStopAtLevel=1");
    // Default thread stacks on purpose: ONNX Runtime 1.29's telemetry start overflowed them in a
    // child JVM with this long class path until OrtNatives moved the first touch to a big stack.
    cmd.add("-XX:ErrorFile=" + logs.resolve("hs_err.log"));
    cmd.addAll(jvm);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd)
        .directory(work.toFile())
        .redirectOutput(logs.resolve("stdout").toFile())
        .redirectError(logs.resolve("stderr").toFile())
        .start();
  }

  private static String childExit(Process p) {
    return p.isAlive() ? "" : "exit " + p.exitValue() + ": ";
  }

  private String log(String name) {
    try {
      return readLog(name);
    } catch (IOException e) {
      return e.toString();
    }
  }

  private String readLog(String name) throws IOException {
    Path f = tmp.resolve("logs").resolve(name);
    return Files.exists(f) ? Files.readString(f) : "";
  }

  private static int probeLines(Path journal) {
    return (int) ProbeJournal.countEntries(journal);
  }

  /** Path -> size, modification time and link target of everything under {@code root}. */
  static Map<Path, String> snapshot(Path root) throws IOException {
    Map<Path, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (Files.isSymbolicLink(p)) {
          m.put(p, "-> " + Files.readSymbolicLink(p));
        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          m.put(p, Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis());
        } else {
          m.put(p, "dir-or-special");
        }
      }
    }
    return m;
  }

  private static Map<Path, String> without(Map<Path, String> m, Path... under) {
    Map<Path, String> r = new TreeMap<>(m);
    for (Path u : under) {
      r.keySet().removeIf(p -> p.startsWith(u));
    }
    return r;
  }

  static boolean mkfifo(Path p) {
    try {
      return new ProcessBuilder("mkfifo", p.toString()).start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * {@code blocks} blocks of x*300 -> square (overflows FP16) -> *1e-4 -> tanh(+x): many probes.
   */
  static Onnx.ModelProto chain(int blocks) {
    GraphBuilder b = GraphBuilder.create("chain", 17).seed(7);
    String h = b.input("x", DType.FLOAT32, 1, 16);
    for (int k = 0; k < blocks; k++) {
      b.scope("block" + k);
      String up = b.mul(h, b.scalar(DType.FLOAT32, 400f));
      String sq = b.mul(up, up); // > 65504 where |h| > 0.64
      String down = b.mul(sq, b.scalar(DType.FLOAT32, 1e-4f));
      h = b.mul(b.add(down, h), b.scalar(DType.FLOAT32, 1f / 17)); // back to [-1, 1]
      b.endScope();
    }
    b.output(h);
    return b.buildProto();
  }

  /** x[1x4] + Constant(external data at {@code location}) -> y. */
  static Onnx.ModelProto constantExternalModel(String location) {
    Onnx.TensorProto value =
        Onnx.TensorProto.newBuilder()
            .setName("kc")
            .setDataType(1)
            .addDims(1)
            .addDims(4)
            .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
            .addExternalData(entry("location", location))
            .addExternalData(entry("offset", "0"))
            .addExternalData(entry("length", "16"))
            .build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .setName("hostile")
            .addInput(floatValue("x"))
            .addNode(
                Onnx.NodeProto.newBuilder()
                    .setName("c")
                    .setOpType("Constant")
                    .addOutput("k")
                    .addAttribute(
                        Onnx.AttributeProto.newBuilder()
                            .setName("value")
                            .setType(Onnx.AttributeProto.AttributeType.TENSOR)
                            .setT(value)))
            .addNode(
                Onnx.NodeProto.newBuilder()
                    .setName("add")
                    .setOpType("Add")
                    .addInput("x")
                    .addInput("k")
                    .addOutput("y"))
            .addOutput(floatValue("y"))
            .build();
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(17))
        .setGraph(g)
        .build();
  }

  /** A model x[1x4] + w[1x4] whose w lives in {@code dir/location}; returns the model file. */
  static Path externalWeightsModel(Path dir, String location) throws IOException {
    Files.write(dir.resolve(location), new byte[16]);
    Onnx.ModelProto m = constantExternalModel(location);
    Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
    Onnx.TensorProto w = g.getNode(0).getAttribute(0).getT().toBuilder().setName("k").build();
    g.removeNode(0).addInitializer(w);
    Path file = dir.resolve("weights.onnx");
    Files.write(file, m.toBuilder().setGraph(g).build().toByteArray());
    return file;
  }

  private static Onnx.StringStringEntryProto entry(String k, String v) {
    return Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  private static Onnx.ValueInfoProto floatValue(String name) {
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(
                    Onnx.TypeProto.Tensor.newBuilder()
                        .setElemType(1)
                        .setShape(
                            Onnx.TensorShapeProto.newBuilder()
                                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                                .addDim(
                                    Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(4)))))
        .build();
  }
}
