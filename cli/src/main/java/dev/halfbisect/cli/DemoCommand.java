package dev.halfbisect.cli;

import dev.halfbisect.api.DiagnosisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.report.render.ConsoleRenderer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs a bundled example end to end: builds the model, diagnoses it (FP16 emulation on ONNX Runtime
 * unless TensorRT is present), prints the per-tensor table and the fix, writes the reports. Exits 0
 * when the outputs pass or a passing fix was found.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Diagnose a bundled model with a known FP16 problem (default: timesformer) and write the report "
            + "under --out (default halfbisect-out/demo).")
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--example",
      paramLabel = "NAME",
      defaultValue = "timesformer",
      description = "example to run (default timesformer)")
  String example;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "report folder (default halfbisect-out/demo)")
  Path out;

  // issue 20: the family's table on the user's own export
  @Option(
      names = "--model",
      paramLabel = "MY.onnx",
      description =
          "your own export of the example's family: print the family's table (clip-vit: fp32/tf32/"
              + "fp16 max abs, median rel, speed-up; elan-sr, unet: batch, width, height, latency,"
              + " throughput, abs and rel errors) instead of diagnosing the bundled model")
  Path model;

  @Option(
      names = "--batch",
      paramLabel = "LIST",
      description = "with --model: batch sizes, e.g. 1,8 (default: the inputs' own batch)")
  String batch;

  @Option(
      names = "--input",
      paramLabel = "NAME:SHAPE:DTYPE:FILL",
      description = "with --model: an input of your model (repeatable); others are derived")
  java.util.List<String> inputs = new java.util.ArrayList<>();

  @Option(
      names = "--shape",
      paramLabel = "NAME:DIMS[,NAME:DIMS...]",
      description =
          "with --model: one set of rows per image size, as perf --shape (e.g. --shape"
              + " lr_image:1x3x128x128 --shape lr_image:1x3x256x256 for a super-resolution export"
              + " with dynamic height and width)")
  java.util.List<String> shapes = new java.util.ArrayList<>();

  @Mixin RunOptions run;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    Path dir = out != null ? out : Path.of("halfbisect-out", "demo");
    DemoModels.Demo demo = DemoModels.get(example);
    if (model != null) {
      return familyTable(o, demo);
    } else if (batch != null || !inputs.isEmpty() || !shapes.isEmpty()) {
      throw new UsageException("--batch, --input and --shape go with --model MY.onnx");
    }
    o.println("halfbisect demo: " + demo.name() + " - " + demo.description());
    OnnxModel model = demo.model();
    // Saved beside the report so that every other subcommand can be tried on the same model.
    Path modelFile = dir.resolve("model.onnx");
    new OutputTargets().folder(dir, "model.onnx").folder(dir, Reports.FILES).check();
    refuseForeignModel(modelFile, model);
    model.save(modelFile);
    // from the file: the report and its trtexec line name the model file written
    HalfBisect hb = run.withBackends(demo.configure(HalfBisect.model(modelFile))).outDir(dir);
    hb = run.withProgress(hb, spec.commandLine().getErr());
    o.println("reference " + hb.referenceSpec() + ", candidate " + hb.candidateSpec());
    DiagnosisResult d = hb.diagnose();
    o.print(ConsoleRenderer.render(d.report()));
    Path html = Reports.writeAll(d.report(), dir);
    o.println("HTML report: " + html.toAbsolutePath());
    o.println(
        "model: " + modelFile.toAbsolutePath() + " (try: halfbisect bisect " + modelFile + ")");
    o.flush();
    // The demo succeeds when it explains the example: outputs pass, or a passing fix was found.
    boolean fixed = d.plan().isPresent();
    return d.passed() || fixed ? Main.PASS : Main.ACCURACY_FAILURE;
  }

  /**
   * issue 16: {@code --out DIR} may hold the user's own {@code model.onnx}; only a previous demo's
   * model (the same bytes) is replaced.
   */
  private static void refuseForeignModel(Path modelFile, OnnxModel model) {
    if (!Files.isRegularFile(modelFile, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      if (!Arrays.equals(Files.readAllBytes(modelFile), model.toBytes())) {
        throw new UsageException(
            modelFile + " exists and is not this demo's model; choose another --out or remove it");
      }
    } catch (IOException e) {
      throw new UsageException("cannot read " + modelFile + ": " + Failures.reason(e));
    }
  }

  /** Issue 20: the family's perf table on {@code --model}; writes table.md under --out if given. */
  private int familyTable(PrintWriter o, DemoModels.Demo demo) {
    if (!Files.isRegularFile(model)) {
      throw new UsageException("--model " + model + ": no such file");
    }
    java.util.List<Integer> batches = new java.util.ArrayList<>();
    if (batch != null) {
      for (String b : batch.split(",")) {
        try {
          batches.add(Integer.parseInt(b.trim()));
        } catch (NumberFormatException e) {
          throw new UsageException("--batch: '" + b + "' is not a whole number (e.g. --batch 1,8)");
        }
      }
    }
    java.util.List<dev.halfbisect.api.ShapeSet> sizes = PerfCommand.shapeSets(shapes);
    HalfBisect hb = run.withBackends(HalfBisect.model(model));
    for (String in : inputs) {
      hb = hb.input(in);
    }
    hb = run.withProgress(hb, spec.commandLine().getErr());
    OutputTargets targets = new OutputTargets().input(model).inputs(hb.externalDataFiles());
    if (out != null) {
      targets.folder(out, "table.md", "perf.json");
    }
    targets.check(); // before the timing runs; the user's model is never a target
    o.println("halfbisect demo: the " + demo.name() + " table on " + model);
    dev.halfbisect.api.PerfResult r;
    try {
      r = hb.perf(FamilyTables.options(batches).withShapes(sizes));
    } catch (IllegalArgumentException e) {
      throw new UsageException("demo --model: " + e.getMessage());
    }
    dev.halfbisect.report.render.PerfTable.Layout layout = FamilyTables.layout(demo.name());
    o.print(dev.halfbisect.report.render.PerfTable.console(r.report(), layout));
    if (out != null) {
      Reports.write(out.resolve("table.md"), r.markdown(layout));
      Reports.write(out.resolve("perf.json"), r.toJson());
      o.println("table.md and perf.json: " + out);
    }
    o.flush();
    return r.passed() ? Main.PASS : Main.ACCURACY_FAILURE;
  }
}
