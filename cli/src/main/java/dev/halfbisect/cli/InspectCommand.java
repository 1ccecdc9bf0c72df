package dev.halfbisect.cli;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npy;
import dev.halfbisect.core.data.Npz;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.InitializerRangeReport;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Summary of a model (inputs, outputs, opset, op histogram, FP16 range of weights) or of .npy/.npz
 * data.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description =
        "Model summary: inputs, outputs, opset, op histogram, FP16 range of weights (initializers and "
            + "Constant nodes); or the arrays "
            + "of a .npy/.npz file.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE", description = "an .onnx model, or a .npy/.npz file")
  Path file;

  @Option(names = "--rows", defaultValue = "15", description = "weight rows to show (default 15)")
  int rows;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    AnalysisOptions.requireFile(file, "inspect");
    PrintWriter out = spec.commandLine().getOut();
    String name = file.getFileName().toString();
    if (name.endsWith(".npy") || name.endsWith(".npz")) {
      inspectArrays(out);
    } else {
      inspectModel(out);
    }
    out.flush();
    return Main.PASS;
  }

  private void inspectArrays(PrintWriter out) {
    Map<String, Tensor> arrays;
    try {
      arrays =
          file.getFileName().toString().endsWith(".npy")
              ? Map.of(file.getFileName().toString(), Npy.read(file))
              : Npz.read(file);
    } catch (IOException | IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    out.println(file + ": " + arrays.size() + " array(s)");
    arrays.forEach(
        (n, t) -> {
          float[] v = t.toFloatArray();
          double min = Double.POSITIVE_INFINITY;
          double max = Double.NEGATIVE_INFINITY;
          double sum = 0;
          long nonFinite = 0;
          for (float x : v) {
            if (!Float.isFinite(x)) {
              nonFinite++;
              continue;
            }
            min = Math.min(min, x);
            max = Math.max(max, x);
            sum += x;
          }
          out.printf(
              Locale.ROOT,
              "  %-32s %-8s [%s]  min %.5g  max %.5g  mean %.5g%s%n",
              n,
              t.dtype().cliName(),
              Tensor.shapeToString(t.shape()),
              min,
              max,
              v.length == 0 ? 0 : sum / v.length,
              nonFinite > 0 ? "  non-finite " + nonFinite : "");
        });
  }

  private void inspectModel(PrintWriter out) {
    OnnxModel m = OnnxModel.load(file);
    Onnx.GraphProto g = m.graph();
    GraphIndex index = m.index();
    out.printf(
        Locale.ROOT,
        "model %s: opset %d, IR version %d, producer %s %s%n",
        m.name(),
        m.opsetVersion(),
        m.proto().getIrVersion(),
        m.proto().getProducerName(),
        m.proto().getProducerVersion());
    out.printf(
        Locale.ROOT,
        "%d nodes, %d initializers, %d float tensors%n",
        g.getNodeCount(),
        g.getInitializerCount(),
        index.floatTensors().size());
    out.println("inputs:");
    for (String in : index.graphInputs()) {
      out.println("  " + describe(index, in));
    }
    out.println("outputs:");
    for (String o : index.graphOutputs()) {
      out.println("  " + describe(index, o));
    }
    Map<String, Integer> ops = new TreeMap<>();
    g.getNodeList().forEach(n -> ops.merge(n.getOpType(), 1, Integer::sum));
    out.println("op histogram:");
    ops.entrySet().stream()
        .sorted((a, b) -> b.getValue() - a.getValue())
        .forEach(e -> out.printf(Locale.ROOT, "  %-24s %d%n", e.getKey(), e.getValue()));
    InitializerRangeReport r = InitializerRangeReport.of(m);
    out.print(r.format(rows));
    out.println(
        r.risky().isEmpty()
            ? "no weight (initializer or Constant node) is damaged by FP16 storage"
            : r.risky().size()
                + " weight(s) lose values in FP16 (overflow above 65504 or subnormal below 6.1e-5): "
                + String.join(
                    ", ",
                    r.risky().stream()
                        .limit(5)
                        .map(x -> x.name() + " (" + x.source() + ")")
                        .toList())
                + (r.risky().size() > 5 ? ", ..." : ""));
  }

  private static String describe(GraphIndex index, String name) {
    String type = index.elementType(name).map(DType::cliName).orElse("?");
    String shape =
        index
            .shape(name)
            .map(
                s -> {
                  StringBuilder sb = new StringBuilder();
                  for (int i = 0; i < s.length; i++) {
                    sb.append(i == 0 ? "" : "x").append(s[i] < 0 ? "?" : Long.toString(s[i]));
                  }
                  return sb.toString();
                })
            .orElse("?");
    return name + " " + type + " [" + shape + "]";
  }
}
