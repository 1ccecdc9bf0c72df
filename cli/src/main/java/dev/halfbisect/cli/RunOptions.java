package dev.halfbisect.cli;

import dev.halfbisect.api.HalfBisect;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/**
 * Options of every subcommand that runs the facade (the analysing subcommands through {@link
 * AnalysisOptions}, and {@code demo}): the backends, the progress bar and stack traces.
 */
class RunOptions {
  @Option(
      names = "--reference",
      paramLabel = "B:MODE",
      description = "reference backend (default trt:fp32 with TensorRT, else ort:fp32)")
  String reference;

  @Option(
      names = "--candidate",
      paramLabel = "B:MODE",
      description =
          "candidate backend (default trt:fp16 with TensorRT, else ort:fp16-emulated; strongly "
              + "typed and BF16: trt:fp16-strong, trt:bf16-strong, ort:bf16-emulated, "
              + "ort:fp16-strong-emulated, ort:bf16-strong-emulated; FP16 accumulation in "
              + "MatMuls: ort:fp16-acc16-emulated)")
  String candidate;

  @Option(names = "--quiet", description = "no progress (neither the bar nor the progress lines)")
  boolean quiet;

  // Main reads it from the raw arguments, so that parse errors get stack traces too.
  @Option(
      names = "--verbose",
      description =
          "log lines (SLF4J, level info), stack traces on errors, ONNX Runtime's warnings")
  boolean verbose;

  /** {@code hb} with the backends given on the command line (the facade's defaults otherwise). */
  HalfBisect withBackends(HalfBisect hb) {
    HalfBisect r = reference != null ? hb.reference(reference) : hb;
    return candidate != null ? r.candidate(candidate) : r;
  }

  /**
   * {@code hb} reporting progress on {@code err} (a bar on a terminal, lines otherwise) unless
   * --quiet.
   */
  HalfBisect withProgress(HalfBisect hb, PrintWriter err) {
    return hb.listener(ProgressDisplay.forStderr(quiet, err));
  }
}
