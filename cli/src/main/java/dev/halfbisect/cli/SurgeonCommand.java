package dev.halfbisect.cli;

import dev.halfbisect.onnx.Extract;
import dev.halfbisect.onnx.MarkOutputs;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.Sanitize;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * ONNX surgery from the command line: mark outputs, extract a subgraph, sanitize, FP16 rewrites.
 */
@Command(
    name = "surgeon",
    mixinStandardHelpOptions = true,
    description = "Rewrite ONNX models.",
    subcommands = {
      SurgeonCommand.Mark.class,
      SurgeonCommand.ExtractCmd.class,
      SurgeonCommand.SanitizeCmd.class,
      Fp16Commands.Fp16.class,
      Fp16Commands.Emulate.class
    })
final class SurgeonCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(),
        "missing surgeon subcommand: one of mark, extract, sanitize, fp16, emulate");
  }

  /** Model in, model out: the options every surgeon subcommand has. */
  abstract static class ModelInOut implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "the ONNX model file")
    Path model;

    @Option(
        names = {"-o", "--output"},
        required = true,
        paramLabel = "OUT.onnx",
        description = "model to write")
    Path output;

    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    abstract OnnxModel apply(OnnxModel m);

    /** Other files the subcommand reads (a plan): never written over either. */
    List<Path> otherInputs() {
      return List.of();
    }

    @Override
    public Integer call() {
      AnalysisOptions.requireFile(model, "model");
      OnnxModel in = OnnxModel.load(model);
      // issue 16: never over the input or its weights, never into a device or FIFO
      List<Path> inputs = new ArrayList<>(List.of(model));
      inputs.addAll(in.externalDataFiles());
      inputs.addAll(otherInputs());
      new OutputTargets().inputs(inputs).file(output).check();
      OnnxModel out = apply(in);
      // Saved inline: external data of the input (initializers, Constant attributes, subgraphs) is
      // embedded, so the output works wherever -o puts it and carries no reference of the input.
      out.save(output);
      spec.commandLine()
          .getOut()
          .println(
              "wrote "
                  + output
                  + " ("
                  + out.graph().getNodeCount()
                  + " nodes, "
                  + out.graph().getOutputCount()
                  + " outputs)");
      return Main.PASS;
    }
  }

  @Command(
      name = "mark",
      mixinStandardHelpOptions = true,
      description = "Mark tensors as graph outputs: --all (every float tensor) or --tensors a,b.")
  static final class Mark extends ModelInOut {
    static final class Which {
      @Option(names = "--all", required = true, description = "every float node output")
      boolean all;

      @Option(
          names = "--tensors",
          split = ",",
          paramLabel = "a,b",
          required = true,
          description = "tensor names")
      List<String> tensors;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    @Override
    OnnxModel apply(OnnxModel m) {
      return which.all ? MarkOutputs.allFloat(m) : MarkOutputs.tensors(m, which.tensors);
    }
  }

  @Command(
      name = "extract",
      mixinStandardHelpOptions = true,
      description = "Extract the subgraph computing --outputs from --inputs (plus initializers).")
  static final class ExtractCmd extends ModelInOut {
    @Option(
        names = "--inputs",
        split = ",",
        paramLabel = "a,b",
        description = "tensors that become inputs")
    List<String> inputs = new ArrayList<>();

    @Option(
        names = "--outputs",
        split = ",",
        paramLabel = "c,d",
        required = true,
        description = "tensors that become outputs")
    List<String> outputs;

    @Override
    OnnxModel apply(OnnxModel m) {
      try {
        return Extract.subgraph(m, inputs, outputs);
      } catch (dev.halfbisect.onnx.InsufficientInputsException e) {
        throw new UsageException(e.getMessage()); // --inputs too few: the user's, exit 2
      }
    }
  }

  @Command(
      name = "sanitize",
      mixinStandardHelpOptions = true,
      description = "Remove nodes and initializers that no output needs.")
  static final class SanitizeCmd extends ModelInOut {
    @Override
    OnnxModel apply(OnnxModel m) {
      return Sanitize.apply(m);
    }
  }
}
