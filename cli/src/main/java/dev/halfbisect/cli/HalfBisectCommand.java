package dev.halfbisect.cli;

import picocli.CommandLine.Command;

/** The top-level {@code halfbisect} command; all work is in its subcommands. */
@Command(
    name = "halfbisect",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description =
        "Finds, explains and fixes FP16 accuracy loss of ONNX models (TensorRT or FP16 emulation on "
            + "ONNX Runtime).%nExit codes: 0 pass, 1 accuracy failure found, 2 usage error, 3 model or backend error.",
    subcommands = {
      AnalysisCommands.Compare.class,
      AnalysisCommands.Layerwise.class,
      AnalysisCommands.Bisect.class,
      AnalysisCommands.Amplify.class,
      AnalysisCommands.Precision.class,
      AnalysisCommands.Reduce.class,
      AnalysisCommands.Diagnose.class,
      PerfCommand.class, // issue 20
      ReportCommand.class,
      SurgeonCommand.class,
      InspectCommand.class,
      DemoCommand.class,
      // issue 17: `halfbisect help CMD` and the shell completion script
      picocli.CommandLine.HelpCommand.class,
      CompletionCommand.class
    })
final class HalfBisectCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(),
        "missing subcommand: one of compare, layerwise, bisect, amplify, precision, reduce, diagnose, perf, report, "
            + "surgeon, inspect, demo, help, completion");
  }
}
