package dev.halfbisect.cli;

import dev.halfbisect.api.AnalysisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.ConsoleRenderer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The analysing subcommands: each configures the facade from the shared options and runs one
 * operation.
 */
final class AnalysisCommands {
  private AnalysisCommands() {}

  /**
   * Common flow: configure, run, print, write --json and (with --out) the reports; exit 0 or 1.
   * Subclasses inherit {@code --help} and {@code --version} from this class's {@code @Command}.
   */
  @Command(mixinStandardHelpOptions = true)
  abstract static class Base implements Callable<Integer> {
    @Mixin AnalysisOptions options;
    @Spec CommandSpec spec;
    private final Function<HalfBisect, ? extends AnalysisResult> operation;
    private final Path defaultOut;
    private final String[] files;

    /**
     * @param operation the facade operation the subcommand runs
     * @param defaultOut folder under {@code halfbisect-out} where files go when --out is not given;
     *     null: nowhere
     * @param files what the operation writes under --out besides the reports and the journal
     */
    Base(
        Function<HalfBisect, ? extends AnalysisResult> operation,
        String defaultOut,
        String... files) {
      this.operation = operation;
      this.defaultOut = defaultOut == null ? null : Path.of("halfbisect-out", defaultOut);
      this.files = files;
    }

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (options.out == null) {
        options.out = defaultOut;
      }
      HalfBisect hb = options.configure(err);
      // issue 16: every output checked before minutes of builds are spent
      OutputTargets targets =
          new OutputTargets()
              .inputs(options.inputFiles(hb))
              .file(options.json)
              .file(options.saveOutputs);
      if (options.out != null) {
        targets.folder(options.out, Reports.FILES).folder(options.out, AnalysisOptions.JOURNAL);
        targets.folder(options.out, files);
      }
      targets.check();
      AnalysisResult r;
      try {
        r = operation.apply(hb);
      } catch (RuntimeException e) {
        targets.removeCreatedIfEmpty(); // refused or failed before writing: no empty --out left
        throw e;
      }
      AnalysisReport report = r.report();
      out.print(ConsoleRenderer.render(report));
      if (options.json != null) {
        Reports.write(options.json, report.toJson());
        out.println("JSON report: " + options.json);
      }
      if (options.out != null) {
        Path html = Reports.writeAll(report, options.out);
        out.println("HTML report: " + html);
      }
      out.flush();
      return r.passed() ? Main.PASS : Main.ACCURACY_FAILURE;
    }
  }

  @Command(name = "compare", description = "Reference vs candidate on the graph outputs.")
  static final class Compare extends Base {
    Compare() {
      super(HalfBisect::compare, null);
    }
  }

  @Command(
      name = "layerwise",
      description =
          "Every floating-point tensor observed in one build; first failing tensor in topological order.")
  static final class Layerwise extends Base {
    Layerwise() {
      super(HalfBisect::layerwise, null);
    }
  }

  @Command(
      name = "bisect",
      description =
          "First divergent tensor by bisection (one observed tensor per candidate build).")
  static final class Bisect extends Base {
    Bisect() {
      super(HalfBisect::bisect, null);
    }
  }

  @Command(
      name = "amplify",
      description = "Local (born here) vs inherited error and amplification per node.")
  static final class Amplify extends Base {
    Amplify() {
      super(HalfBisect::amplify, null);
    }
  }

  @Command(
      name = "precision",
      description =
          "Finds the nodes to keep in FP32; writes plan.json, model-fp16.onnx and trtexec-flags.txt "
              + "under --out (default halfbisect-out/precision). Exit 0 when a passing plan is found. "
              // issue 19
              + "Strongly typed or BF16 candidates get the Cast-placed model-fp16.onnx/model-bf16.onnx "
              + "and --stronglyTyped; --plan-from starts from a converted model's FP32 set.")
  static final class Precision extends Base {
    Precision() {
      super(
          HalfBisect::precision,
          "precision",
          "plan.json",
          "model-fp16.onnx",
          "model-bf16.onnx",
          "trtexec-flags.txt");
    }
  }

  @Command(
      name = "reduce",
      description =
          "Smallest subgraph around the first divergence that still fails alone; writes reduced.onnx, "
              + "inputs.npz and reference.npz under --out (default halfbisect-out/reduce).")
  static final class Reduce extends Base {
    Reduce() {
      super(HalfBisect::reduce, "reduce", "reduced.onnx", "inputs.npz", "reference.npz");
    }
  }

  @Command(
      name = "diagnose",
      description =
          "All strategies, then a report: HTML + JSON + Markdown under --out (default "
              + "halfbisect-out/diagnose).")
  static final class Diagnose extends Base {
    Diagnose() {
      super(
          HalfBisect::diagnose,
          "diagnose",
          "plan.json",
          "model-fp16.onnx",
          "model-bf16.onnx",
          "trtexec-flags.txt");
    }
  }
}
