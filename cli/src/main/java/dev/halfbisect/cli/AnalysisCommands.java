package dev.halfbisect.cli;

import dev.halfbisect.api.AnalysisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.ConsoleRenderer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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

  /** Common flow: configure, run, print, write --json and (with --out) the reports; exit 0 or 1. */
  abstract static class Base implements Callable<Integer> {
    @Mixin AnalysisOptions options;
    @Spec CommandSpec spec;

    abstract AnalysisResult run(HalfBisect hb);

    /** Where files go when --out is not given; null: nowhere. */
    Path defaultOut() {
      return null;
    }

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (options.out == null) {
        options.out = defaultOut();
      }
      HalfBisect hb = options.configure(err);
      AnalysisResult r = run(hb);
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

  @Command(
      name = "compare",
      mixinStandardHelpOptions = true,
      description = "Reference vs candidate on the graph outputs.")
  static final class Compare extends Base {
    @Override
    AnalysisResult run(HalfBisect hb) {
      return hb.compare();
    }
  }

  @Command(
      name = "layerwise",
      mixinStandardHelpOptions = true,
      description =
          "Every floating-point tensor observed in one build; first failing tensor in topological order.")
  static final class Layerwise extends Base {
    @Override
    AnalysisResult run(HalfBisect hb) {
      return hb.layerwise();
    }
  }

  @Command(
      name = "bisect",
      mixinStandardHelpOptions = true,
      description =
          "First divergent tensor by bisection (one observed tensor per candidate build).")
  static final class Bisect extends Base {
    @Override
    AnalysisResult run(HalfBisect hb) {
      return hb.bisect();
    }
  }

  @Command(
      name = "amplify",
      mixinStandardHelpOptions = true,
      description = "Local (born here) vs inherited error and amplification per node.")
  static final class Amplify extends Base {
    @Override
    AnalysisResult run(HalfBisect hb) {
      return hb.amplify();
    }
  }

  @Command(
      name = "precision",
      mixinStandardHelpOptions = true,
      description =
          "Finds the nodes to keep in FP32; writes plan.json, model-fp16.onnx and trtexec-flags.txt "
              + "under --out (default halfbisect-out/precision). Exit 0 when a passing plan is found.")
  static final class Precision extends Base {
    @Override
    Path defaultOut() {
      return Path.of("halfbisect-out", "precision");
    }

    @Override
    AnalysisResult run(HalfBisect hb) {
      return hb.precision();
    }
  }

  @Command(
      name = "reduce",
      mixinStandardHelpOptions = true,
      description =
          "Smallest subgraph around the first divergence that still fails alone; writes reduced.onnx, "
              + "inputs.npz and reference.npz under --out (default halfbisect-out/reduce).")
  static final class Reduce extends Base {
    @Override
    Path defaultOut() {
      return Path.of("halfbisect-out", "reduce");
    }

    @Override
    AnalysisResult run(HalfBisect hb) {
      return hb.reduce();
    }
  }

  @Command(
      name = "diagnose",
      mixinStandardHelpOptions = true,
      description =
          "All strategies, then a report: HTML + JSON + Markdown under --out (default "
              + "halfbisect-out/diagnose).")
  static final class Diagnose extends Base {
    @Override
    Path defaultOut() {
      return Path.of("halfbisect-out", "diagnose");
    }

    @Override
    AnalysisResult run(HalfBisect hb) {
      return hb.diagnose();
    }
  }
}
