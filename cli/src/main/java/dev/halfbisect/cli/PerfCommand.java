package dev.halfbisect.cli;

import dev.halfbisect.api.PerfOptions;
import dev.halfbisect.api.PerfResult;
import dev.halfbisect.api.ShapeSet;
import dev.halfbisect.core.backend.TimingRequest;
import dev.halfbisect.report.render.PerfTable;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code halfbisect perf MODEL --precisions fp32,tf32,fp16 --batch 1,8,64 [--shape NAME:DIMS]...}
 * (issue 20): latency, throughput and error against the FP32 reference per precision, batch size
 * and input shape set.
 */
@Command(
    name = "perf",
    mixinStandardHelpOptions = true,
    description =
        "Latency, throughput, max/median/mean abs and rel error (vs the FP32 reference) and speed-up"
            + " vs FP32 per precision, batch size and --shape set, on the candidate's backend. TensorRT times GPU"
            + " time per inference with CUDA events; ONNX Runtime times are CPU emulation times, not"
            + " FP16 speed. Exit 1 when a row fails the tolerance.")
final class PerfCommand implements Callable<Integer> {
  @Mixin AnalysisOptions options;
  @Spec CommandSpec spec;

  @Option(
      names = "--precisions",
      paramLabel = "LIST",
      defaultValue = "fp32,tf32,fp16",
      description =
          "comma-separated: fp32, tf32, fp16, bf16, plan:PLAN.json (default fp32,tf32,fp16; --plan P"
              + " adds plan:P); fp32 is"
              + " always measured; a precision the backend has no mode for is listed as skipped")
  String precisions;

  @Option(
      names = "--batch",
      paramLabel = "LIST",
      description =
          "comma-separated batch sizes, e.g. 1,8,64: the first dimension of every input (it must be"
              + " dynamic in the model); default: the inputs' own batch")
  String batches;

  @Option(
      names = "--shape",
      paramLabel = "NAME:DIMS[,NAME:DIMS...]",
      description =
          "repeatable: one set of rows per --shape, crossed with --batch; NAME:DIMS sets the full"
              + " shape of input NAME (e.g. --shape image:1x3x128x128 --shape image:1x3x256x256),"
              + " commas join inputs of one set; a --batch size then replaces dim 0; only the"
              + " model's dynamic dims may change; inputs not named keep their shape (symbolic dims"
              + " shared with a named input follow it); loaded inputs must already have the shape")
  List<String> shapes = new ArrayList<>();

  @Option(
      names = "--warmup",
      paramLabel = "N",
      defaultValue = "5",
      description = "untimed runs before each timing (default 5)")
  int warmup;

  @Option(
      names = "--runs",
      paramLabel = "N",
      defaultValue = "20",
      description = "timed runs per row (default 20); latency is their median")
  int runs;

  @Option(
      names = "--backend",
      paramLabel = "NAME",
      description = "backend that runs the rows: trt or ort (default: the candidate's backend)")
  String backend;

  @Option(
      names = "--layout",
      paramLabel = "full|vit|sr",
      defaultValue = "full",
      description =
          "columns of the console and Markdown table: full (default), vit (max abs, median rel,"
              + " speed-up), sr (batch, width, height, latency, throughput, abs and rel errors)")
  String layout;

  @Option(names = "--md", paramLabel = "FILE", description = "write the Markdown table to FILE")
  Path md;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PerfTable.Layout l = layout();
    PerfOptions o = perfOptions();
    dev.halfbisect.api.HalfBisect hb = options.configure(spec.commandLine().getErr());
    // every target checked before the timing runs; none may be an input (the model, a plan)
    OutputTargets targets =
        new OutputTargets()
            .inputs(options.inputFiles(hb))
            .inputs(planFiles(o.precisions()))
            .file(options.json)
            .file(md);
    if (options.out != null) {
      targets.folder(options.out, "perf.json", "perf.md");
    }
    targets.check();
    PerfResult r = hb.perf(o);
    out.print(PerfTable.console(r.report(), l));
    if (options.json != null) {
      Reports.write(options.json, r.toJson());
      out.println("JSON report: " + options.json);
    }
    if (md != null) {
      Reports.write(md, r.markdown(l));
      out.println("Markdown table: " + md);
    }
    if (options.out != null) {
      Reports.write(options.out.resolve("perf.json"), r.toJson());
      Reports.write(options.out.resolve("perf.md"), r.markdown(l));
      out.println("perf.json and perf.md: " + options.out);
    }
    out.flush();
    return r.passed() ? Main.PASS : Main.ACCURACY_FAILURE;
  }

  private PerfOptions perfOptions() {
    if (warmup < 0) {
      throw new UsageException("--warmup must be at least 0, got " + warmup);
    }
    if (runs < 1) {
      throw new UsageException("--runs must be at least 1, got " + runs);
    }
    List<String> ps = new ArrayList<>();
    for (String p : precisions.split(",")) {
      if (!p.isBlank()) {
        ps.add(p.trim());
      }
    }
    if (options.plan != null && !ps.contains("plan:" + options.plan)) {
      ps.add("plan:" + options.plan); // --plan P is a row of its own, as plan:P (it was ignored)
    }
    List<Integer> bs = new ArrayList<>();
    if (batches != null) {
      for (String b : batches.split(",")) {
        try {
          bs.add(Integer.parseInt(b.trim()));
        } catch (NumberFormatException e) {
          throw new UsageException(
              "--batch: '" + b + "' is not a whole number (e.g. --batch 1,8,64)");
        }
      }
    }
    List<ShapeSet> ss = shapeSets(shapes);
    try {
      return PerfOptions.defaults()
          .withPrecisions(ps)
          .withBatches(bs)
          .withShapes(ss)
          .withTiming(new TimingRequest(warmup, runs))
          .withBackend(backend);
    } catch (IllegalArgumentException e) {
      throw new UsageException("perf: " + e.getMessage());
    }
  }

  /** The files of {@code plan:FILE} precisions. */
  private static List<java.nio.file.Path> planFiles(List<String> precisions) {
    List<java.nio.file.Path> files = new ArrayList<>();
    for (String p : precisions) {
      if (p.startsWith("plan:")) {
        files.add(java.nio.file.Path.of(p.substring("plan:".length())));
      }
    }
    return files;
  }

  /** The {@code --shape} values (perf and demo --model), a usage error for a malformed one. */
  static List<ShapeSet> shapeSets(List<String> texts) {
    List<ShapeSet> sets = new ArrayList<>();
    for (String s : texts) {
      try {
        sets.add(ShapeSet.parse(s));
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
    }
    return sets;
  }

  private PerfTable.Layout layout() {
    try {
      return PerfTable.Layout.valueOf(layout.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--layout must be full, vit or sr, got " + layout);
    }
  }
}
