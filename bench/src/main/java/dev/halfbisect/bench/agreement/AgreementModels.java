package dev.halfbisect.bench.agreement;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.examples.Example;
import dev.halfbisect.examples.Examples;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.ParseTimeModels;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The agreement measurement of issue 15 (point 7), driven by {@code bench/gpu/h15a.sh}.
 *
 * <ul>
 *   <li>{@code write DIR [EXAMPLE...]}: writes the models built in code (a Conv-BN CNN with BN
 *       variance 9.79e7 in Constant nodes, a model whose output is ~0, a BERT-style masked softmax)
 *       and the named {@code demo --example} models to {@code DIR/<name>.onnx}, and {@code
 *       DIR/models.tsv}: one line per model, {@code name<TAB>path<TAB>--input ...}.
 *   <li>{@code table DIR}: reads {@code DIR/<model>.compare.json} and {@code
 *       DIR/<model>.bisect.json} (the CLI's {@code --json} documents) and prints one line per
 *       model: verdict, max abs error of the outputs, first failing node.
 * </ul>
 *
 * Runs from the CLI jar's class path with Java's source launcher as well ({@code java -cp
 * halfbisect.jar AgreementModels.java ...}), so the GPU machine needs no bench build.
 */
public final class AgreementModels {
  private AgreementModels() {}

  public static void main(String[] args) throws IOException {
    if (args.length >= 2 && args[0].equals("write")) {
      write(Path.of(args[1]), List.of(args).subList(2, args.length));
    } else if (args.length == 2 && args[0].equals("table")) {
      table(Path.of(args[1]), System.out);
    } else {
      System.err.println("usage: AgreementModels write DIR [EXAMPLE...] | table DIR");
      System.exit(2);
    }
  }

  static void write(Path dir, List<String> examples) throws IOException {
    Files.createDirectories(dir);
    List<String> lines = new ArrayList<>();
    lines.add(
        save(
            dir,
            "conv-bn-cnn",
            ParseTimeModels.convBnCnn(ParseTimeModels.HUGE_VARIANCE),
            "--input x:1x3x16x16:float32:-1..1"));
    lines.add(
        save(dir, "near-zero", ParseTimeModels.nearZeroOutput(), "--input x:1x64:float32:-1..1"));
    lines.add(
        save(
            dir,
            "masked-softmax",
            ParseTimeModels.maskedSoftmax(),
            "--input scores:1x2x8x8:float32:-4..4 --input mask:1x8:int64:0..2"));
    for (String name : examples) {
      Example e = Examples.get(name);
      String inputs = e.inputs().stream().map(s -> "--input " + s).collect(Collectors.joining(" "));
      lines.add(save(dir, name, e.buildModel(), inputs));
    }
    Files.write(dir.resolve("models.tsv"), lines, StandardCharsets.UTF_8);
  }

  private static String save(Path dir, String name, OnnxModel m, String inputs) {
    Path p = dir.resolve(name + ".onnx");
    m.save(p);
    return name + "\t" + p + "\t" + inputs;
  }

  static void table(Path dir, PrintStream out) throws IOException {
    ObjectMapper json = new ObjectMapper();
    out.printf(
        Locale.ROOT, "%-18s %-7s %-12s %s%n", "model", "verdict", "max|err|", "first failing");
    for (String line : Files.readAllLines(dir.resolve("models.tsv"), StandardCharsets.UTF_8)) {
      String name = line.split("\t")[0];
      JsonNode compare = read(json, dir.resolve(name + ".compare.json"));
      JsonNode bisect = read(json, dir.resolve(name + ".bisect.json"));
      String verdict = compare == null ? "-" : compare.path("verdict").asText("-");
      double maxAbs = Double.NaN;
      if (compare != null) {
        for (JsonNode t : compare.path("tensors")) {
          if (t.path("maxAbs").isNumber()) {
            maxAbs =
                Double.isNaN(maxAbs)
                    ? t.path("maxAbs").asDouble()
                    : Math.max(maxAbs, t.path("maxAbs").asDouble());
          } else if (t.path("maxAbs").isTextual()) {
            maxAbs = Double.POSITIVE_INFINITY; // "inf"/"nan" are written as strings
          }
        }
      }
      String first =
          bisect == null
              ? "-"
              : bisect.path("firstFailing").isObject()
                  ? bisect.path("firstFailing").path("node").asText("-")
                  : "none";
      out.printf(
          Locale.ROOT,
          "%-18s %-7s %-12s %s%n",
          name,
          verdict,
          Double.isNaN(maxAbs) ? "-" : String.format(Locale.ROOT, "%.3g", maxAbs),
          first);
    }
  }

  private static JsonNode read(ObjectMapper json, Path p) {
    try {
      return Files.isRegularFile(p) ? json.readTree(p.toFile()) : null;
    } catch (IOException e) {
      return null;
    }
  }
}
