package dev.halfbisect.trt;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.trt.client.TrtSettings;
import dev.halfbisect.trt.client.WorkerPool;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The GPU validation run of the TensorRT backend (not a unit test: run with java on a GPU machine).
 * Usage: {@code GpuValidation OUT_DIR MINILM.onnx STEP...} with steps {@code small}, {@code
 * minilm}, {@code markall}, {@code recycle}. Prints a result table last.
 */
public final class GpuValidation {
  private static final List<String> TABLE = new ArrayList<>();
  private static Path out;

  private GpuValidation() {}

  public static void main(String[] args) throws Exception {
    out = Path.of(args[0]);
    Path minilm = Path.of(args[1]);
    Files.createDirectories(out);
    Backend trt = Backends.get("trt");
    long t0 = System.nanoTime();
    Availability a = trt.availability();
    row("availability", a.available() + " (" + secs(t0) + " s): " + a.reason());
    if (!a.available()) {
      printTable();
      System.exit(1);
    }
    for (int i = 2; i < args.length; i++) {
      try {
        switch (args[i]) {
          case "small":
            small(trt);
            break;
          case "minilm":
            minilm(trt, minilm);
            break;
          case "markall":
            markAll(trt, minilm);
            break;
          case "recycle":
            recycle(trt);
            break;
          case "transformer":
            transformer(trt);
            break;
          case "strong":
            strongMiniLm(trt, minilm);
            break;
          default:
            throw new IllegalArgumentException("unknown step " + args[i]);
        }
      } catch (Exception e) {
        row(args[i] + " FAILED", e.toString().replace('\n', ' '));
        e.printStackTrace();
      }
    }
    printTable();
    System.exit(0);
  }

  /**
   * The proto-made overflow model: fp32 vs fp16 vs fp16 with the LayerNorm nodes pinned; dtype
   * outputs; plan check.
   */
  static void small(Backend trt) throws Exception {
    byte[] model = TestModels.overflowLayerNorm(64, 256, 300f, false);
    ModelRef ref = ModelRef.ofBytes("overflow_ln", model, null);
    Map<String, Tensor> in =
        Map.of("x", Tensor.ofFloats(new long[] {1, 64, 256}, TestModels.normalInput(64 * 256, 3)));
    BuildOptions observe =
        BuildOptions.of("fp32")
            .withObserved(List.of("d2", "var"))
            .withProperty("halfbisect.trt.dumpEngineInfo", out.resolve("engine").toString());
    RunResult ref32;
    try (BackendSession s = trt.open(ref, observe)) {
      ref32 = s.run(in);
      row(
          "small fp32 build",
          s.buildStats().buildTime().toMillis() + " ms, outputs " + s.outputNames());
    }
    for (String mode : List.of("tf32", "fp16")) {
      try (BackendSession s =
          trt.open(
              ref,
              new BuildOptions(
                  mode, PrecisionPlan.allFp16(), observe.observed(), observe.properties()))) {
        RunResult r = s.run(in);
        row(
            "small " + mode + " y",
            err(ref32.get("y"), r.get("y"))
                + ", d2 "
                + err(ref32.get("d2"), r.get("d2"))
                + ", d2 inf count "
                + infCount(r.get("d2")));
      }
    }
    try (BackendSession s = trt.open(ref, BuildOptions.of("fp16"))) {
      row("small fp16 (nothing observed) y", err(ref32.get("y"), s.run(in).get("y")));
    }
    PrecisionPlan plan = PrecisionPlan.fp16Except(TestModels.LAYER_NORM_NODES);
    try (BackendSession s =
        trt.open(
            ref,
            BuildOptions.of("fp16", plan)
                .withObserved(List.of("d2"))
                .withProperty("halfbisect.trt.dumpEngineInfo", out.resolve("engine").toString()))) {
      RunResult r = s.run(in);
      row(
          "small fp16+LN pinned y",
          err(ref32.get("y"), r.get("y")) + ", d2 inf " + infCount(r.get("d2")));
      row(
          "small dtypes",
          "y_pos "
              + r.get("y_pos").dtype()
              + " equal="
              + ref32.get("y_pos").equals(r.get("y_pos"))
              + "; y_arg "
              + r.get("y_arg").dtype()
              + " equal="
              + ref32.get("y_arg").equals(r.get("y_arg"))
              + "; y_i32 "
              + r.get("y_i32").dtype()
              + " equal="
              + ref32.get("y_i32").equals(r.get("y_i32")));
      row("small plan check", String.join(" ; ", ((TrtSession) s).planCheck()).replace('\t', ' '));
      row("small warnings", String.valueOf(s.buildStats().warnings()));
    }
    try (BackendSession s = trt.open(ref, BuildOptions.of("fp16-strong", plan))) {
      row("small fp16-strong", "y " + err(ref32.get("y"), s.run(in).get("y")));
    } catch (BackendException e) {
      row("small fp16-strong", "not run: " + e.getMessage());
    }
    // dynamic batch: built on first run, rebuilt for a new batch size
    byte[] dyn = TestModels.overflowLayerNorm(16, 64, 1f, true);
    try (BackendSession s = trt.open(ModelRef.ofBytes("dyn", dyn, null), BuildOptions.of("fp32"))) {
      s.run(Map.of("x", Tensor.ofFloats(new long[] {1, 16, 64}, TestModels.normalInput(1024, 1))));
      RunResult r =
          s.run(
              Map.of(
                  "x", Tensor.ofFloats(new long[] {3, 16, 64}, TestModels.normalInput(3072, 1))));
      row(
          "dynamic batch",
          "y shape " + Tensor.shapeToString(r.get("y").shape()) + ", " + s.buildStats().warnings());
    }
  }

  /**
   * The GraphBuilder transformer whose LayerNorm Pow overflows FP16: every mode and the LayerNorm
   * fix.
   */
  static void transformer(Backend trt) throws Exception {
    byte[] model = TestModels.transformer(4, 128, 256, 4, 300f);
    ModelRef ref = ModelRef.ofBytes("tiny_transformer", model, null);
    Map<String, Tensor> in =
        Map.of(
            "x", Tensor.ofFloats(new long[] {1, 128, 256}, TestModels.normalInput(128 * 256, 9)));
    List<String> ln = new ArrayList<>();
    for (Onnx.NodeProto n : Onnx.ModelProto.parseFrom(model).getGraph().getNodeList()) {
      if (n.getName().contains("/ln")) {
        ln.add(n.getName());
      }
    }
    Tensor ref32;
    try (BackendSession s = trt.open(ref, BuildOptions.of("fp32"))) {
      ref32 = s.run(in).get("y");
      row(
          "transformer (4 blocks, "
              + Onnx.ModelProto.parseFrom(model).getGraph().getNodeCount()
              + " nodes) fp32",
          "build " + s.buildStats().buildTime().toMillis() + " ms");
    }
    for (BuildOptions o :
        List.of(
            BuildOptions.of("fp16"),
            BuildOptions.of("fp16", PrecisionPlan.fp16Except(ln)),
            BuildOptions.of("fp16-strong"),
            BuildOptions.of("fp16-strong", PrecisionPlan.fp16Except(ln)))) {
      String label =
          "transformer "
              + o.mode()
              + (o.plan().fp32Nodes().isEmpty() ? "" : " + " + ln.size() + " LN pinned");
      try (BackendSession s = trt.open(ref, o)) {
        Tensor y = s.run(in).get("y");
        row(
            label,
            err(ref32, y)
                + ", nonfinite "
                + infCount(y)
                + ", build "
                + s.buildStats().buildTime().toMillis()
                + " ms, warnings "
                + s.buildStats().warnings().size());
        if (o.mode().equals("fp16") && !o.plan().fp32Nodes().isEmpty()) {
          Map<String, Integer> counts = new LinkedHashMap<>();
          for (String line : ((TrtSession) s).planCheck()) {
            counts.merge(line.split("\t")[1], 1, Integer::sum);
          }
          row("transformer plan check", counts.toString());
        }
      } catch (BackendException e) {
        row(label, "failed: " + firstChars(e.getMessage(), 300));
      }
    }
  }

  /**
   * MiniLM built strongly typed from onnx-surgery's FP16 rewrite, all FP16 and with LayerNorm
   * pinned.
   */
  static void strongMiniLm(Backend trt, Path file) throws Exception {
    ModelRef ref = ModelRef.ofPath(file);
    Map<String, Tensor> in = minilmInputs(128, 11);
    Tensor r32;
    try (BackendSession s = trt.open(ref, BuildOptions.of("fp32"))) {
      r32 = s.run(in).get("last_hidden_state");
    }
    List<String> ln = new ArrayList<>();
    for (Onnx.NodeProto n : graph(file).getNodeList()) {
      if (n.getName().contains("LayerNorm") && !n.getOpType().equals("Constant")) {
        ln.add(n.getName());
      }
    }
    for (PrecisionPlan plan : List.of(PrecisionPlan.allFp16(), PrecisionPlan.fp16Except(ln))) {
      long t = System.nanoTime();
      try (BackendSession s = trt.open(ref, BuildOptions.of("fp16-strong", plan))) {
        Tensor y = s.run(in).get("last_hidden_state");
        row(
            "MiniLM fp16-strong"
                + (plan.fp32Nodes().isEmpty() ? "" : " + " + ln.size() + " LN pinned"),
            err(r32, y)
                + ", build "
                + s.buildStats().buildTime().toMillis()
                + " ms (open+run "
                + secs(t)
                + " s)");
      } catch (BackendException e) {
        row("MiniLM fp16-strong", "failed: " + firstChars(e.getMessage(), 300));
      }
    }
  }

  static void minilm(Backend trt, Path file) throws Exception {
    ModelRef ref = ModelRef.ofPath(file);
    Map<String, Tensor> in = minilmInputs(128, 11);
    long t = System.nanoTime();
    RunResult r32;
    try (BackendSession s = trt.open(ref, BuildOptions.of("fp32"))) {
      r32 = s.run(in);
      row(
          "MiniLM fp32 build",
          s.buildStats().buildTime().toMillis() + " ms (open+run " + secs(t) + " s)");
    }
    t = System.nanoTime();
    try (BackendSession s = trt.open(ref, BuildOptions.of("fp16"))) {
      RunResult r = s.run(in);
      row(
          "MiniLM fp16 build cold cache",
          s.buildStats().buildTime().toMillis() + " ms (open+run " + secs(t) + " s)");
      row("MiniLM fp16 vs fp32", err(r32.get("last_hidden_state"), r.get("last_hidden_state")));
    }
    WorkerPool.shared(TrtSettings.fromSystem())
        .shutdown(); // next build: new worker, cache from disk
    t = System.nanoTime();
    try (BackendSession s = trt.open(ref, BuildOptions.of("fp16"))) {
      s.run(in);
      row(
          "MiniLM fp16 build warm cache (new worker)",
          s.buildStats().buildTime().toMillis() + " ms (open+run " + secs(t) + " s)");
    }
    t = System.nanoTime();
    try (BackendSession s = trt.open(ref, BuildOptions.of("tf32"))) {
      RunResult r = s.run(in);
      row(
          "MiniLM tf32 vs fp32",
          err(r32.get("last_hidden_state"), r.get("last_hidden_state"))
              + ", build "
              + s.buildStats().buildTime().toMillis()
              + " ms");
    }
    List<String> ln = new ArrayList<>();
    for (Onnx.NodeProto n : graph(file).getNodeList()) {
      if (n.getName().contains("LayerNorm") && !n.getOpType().equals("Constant")) {
        ln.add(n.getName());
      }
    }
    t = System.nanoTime();
    try (BackendSession s =
        trt.open(
            ref,
            BuildOptions.of("fp16", PrecisionPlan.fp16Except(ln))
                .withProperty("halfbisect.trt.dumpEngineInfo", out.resolve("engine").toString()))) {
      RunResult r = s.run(in);
      row(
          "MiniLM fp16 + " + ln.size() + " LayerNorm nodes pinned",
          err(r32.get("last_hidden_state"), r.get("last_hidden_state"))
              + ", build "
              + s.buildStats().buildTime().toMillis()
              + " ms");
      Map<String, Integer> counts = new LinkedHashMap<>();
      for (String line : ((TrtSession) s).planCheck()) {
        counts.merge(line.split("\t")[1], 1, Integer::sum);
      }
      row("MiniLM plan check", counts + "; warnings " + s.buildStats().warnings().size());
      Files.write(out.resolve("minilm-plancheck.txt"), ((TrtSession) s).planCheck());
      Files.write(out.resolve("minilm-warnings.txt"), s.buildStats().warnings());
    }
    try (BackendSession s =
        trt.open(ref, BuildOptions.of("fp16-strong", PrecisionPlan.fp16Except(ln)))) {
      RunResult r = s.run(in);
      row(
          "MiniLM fp16-strong + LN pinned",
          err(r32.get("last_hidden_state"), r.get("last_hidden_state")));
    } catch (BackendException e) {
      row("MiniLM fp16-strong", "not run: " + e.getMessage());
    }
  }

  static void markAll(Backend trt, Path file) throws Exception {
    List<String> all = new ArrayList<>();
    for (Onnx.NodeProto n : graph(file).getNodeList()) {
      if (!n.getOpType()
          .equals("Constant")) { // Constant outputs are folded into weights by the parser
        all.addAll(n.getOutputList());
      }
    }
    ModelRef ref = ModelRef.ofPath(file);
    long t = System.nanoTime();
    try (BackendSession s =
        trt.open(
            ref,
            BuildOptions.of("fp16")
                .withObserved(all)
                .withProperty(TrtSettings.BUILD_TIMEOUT, "240"))) {
      RunResult r = s.run(minilmInputs(128, 11));
      row(
          "MiniLM mark-all (" + all.size() + " tensors) fp16",
          "built in "
              + s.buildStats().buildTime().toMillis()
              + " ms, "
              + r.outputs().size()
              + " outputs");
    } catch (BackendException | IllegalArgumentException e) {
      row(
          "MiniLM mark-all (" + all.size() + " tensors) fp16",
          "failed after "
              + secs(t)
              + " s: "
              + e.getClass().getSimpleName()
              + ": "
              + firstChars(e.getMessage(), 400));
    }
  }

  /**
   * 50 probe builds (random pinned subsets) through worker recycling, watching per-process GPU
   * memory.
   */
  static void recycle(Backend trt) throws Exception {
    byte[] model = TestModels.overflowLayerNorm(64, 256, 300f, false);
    ModelRef ref = ModelRef.ofBytes("overflow_ln", model, null);
    Map<String, Tensor> in =
        Map.of("x", Tensor.ofFloats(new long[] {1, 64, 256}, TestModels.normalInput(64 * 256, 3)));
    long me = ProcessHandle.current().pid();
    Random rnd = new Random(5);
    List<String> mem = new ArrayList<>();
    long t = System.nanoTime();
    for (int i = 1; i <= 50; i++) {
      List<String> pins = new ArrayList<>();
      for (String n : TestModels.LAYER_NORM_NODES) {
        if (rnd.nextBoolean()) {
          pins.add(n);
        }
      }
      try (BackendSession s =
          trt.open(ref, BuildOptions.of("fp16", PrecisionPlan.fp16Except(pins)))) {
        s.run(in);
      }
      if (i % 10 == 0 || i == 1) {
        mem.add("after " + i + ": " + gpuMemory(me));
      }
    }
    Files.write(out.resolve("recycle-memory.txt"), mem);
    row(
        "50 probe builds",
        secs(t)
            + " s, workers started "
            + WorkerPool.shared(TrtSettings.fromSystem()).startedWorkers());
    for (String m : mem) {
      row("  gpu memory", m);
    }
    row(
        "parent native libs",
        NativeMaps.tensorRtLibraries().isEmpty()
            ? "none (no TensorRT/CUDA mapped in the parent)"
            : "LOADED: " + NativeMaps.tensorRtLibraries());
  }

  private static String gpuMemory(long parentPid) throws Exception {
    Process p =
        new ProcessBuilder(
                "nvidia-smi",
                "--query-compute-apps=pid,used_memory",
                "--format=csv,noheader,nounits")
            .redirectErrorStream(true)
            .start();
    StringBuilder sb = new StringBuilder();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
      String line;
      while ((line = r.readLine()) != null) {
        String[] f = line.split(",");
        String pid = f[0].trim();
        sb.append(pid.equals(Long.toString(parentPid)) ? "PARENT " : "")
            .append(pid)
            .append("=")
            .append(f.length > 1 ? f[1].trim() : "?")
            .append("MiB ");
      }
    }
    p.waitFor();
    Process q =
        new ProcessBuilder("nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits")
            .redirectErrorStream(true)
            .start();
    String total = new String(q.getInputStream().readAllBytes()).trim();
    return "procs["
        + sb.toString().trim()
        + "] total "
        + total
        + " MiB (parent pid "
        + parentPid
        + ")";
  }

  static Map<String, Tensor> minilmInputs(int seq, long seed) {
    Random r = new Random(seed);
    long[] ids = new long[seq];
    long[] mask = new long[seq];
    long[] types = new long[seq];
    for (int i = 0; i < seq; i++) {
      ids[i] = i == 0 ? 101 : i == seq - 1 ? 102 : 1000 + r.nextInt(20000);
      mask[i] = 1;
    }
    long[] shape = {1, seq};
    return Map.of(
        "input_ids",
        Tensor.ofLongs(shape, ids),
        "attention_mask",
        Tensor.ofLongs(shape, mask),
        "token_type_ids",
        Tensor.ofLongs(shape, types));
  }

  private static Onnx.GraphProto graph(Path file) throws Exception {
    return Onnx.ModelProto.parseFrom(Files.readAllBytes(file)).getGraph();
  }

  static String err(Tensor ref, Tensor cand) {
    float[] a = ref.toFloatArray();
    float[] b = cand.toFloatArray();
    double num = 0;
    double den = 0;
    double maxAbs = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) b[i] - a[i];
      num += d * d;
      den += (double) a[i] * a[i];
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
    return String.format("normErr %.3e maxAbs %.3e", Math.sqrt(num) / Math.sqrt(den), maxAbs)
        + (cand.dtype() == DType.FLOAT32 ? "" : " (" + cand.dtype().cliName() + ")");
  }

  private static long infCount(Tensor t) {
    long n = 0;
    for (float f : t.toFloatArray()) {
      if (Float.isInfinite(f) || Float.isNaN(f)) {
        n++;
      }
    }
    return n;
  }

  private static String secs(long t0) {
    return String.format("%.1f", (System.nanoTime() - t0) / 1e9);
  }

  private static String firstChars(String s, int n) {
    return s == null ? "" : s.length() <= n ? s : s.substring(0, n) + "...";
  }

  private static void row(String k, String v) {
    String line = String.format("| %-44s | %s |", k, v);
    TABLE.add(line);
    System.err.println("RESULT " + line);
  }

  private static void printTable() throws Exception {
    Files.write(out.resolve("table.md"), TABLE);
    System.out.println("\n=== TensorRT validation ===");
    TABLE.forEach(System.out::println);
  }
}
