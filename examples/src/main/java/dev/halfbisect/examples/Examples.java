package dev.halfbisect.examples;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The registry of examples, and a main that runs one: {@code Examples [NAME]} (default {@code
 * timesformer}; {@code --list} prints the names).
 */
public final class Examples {
  private static final List<Example> ALL =
      ImmutableList.of(
          new TimesformerExample(),
          new UnetExample(),
          new CnnTransformerExample(),
          new ClipVitExample(),
          new ElanSrExample(),
          new MiniLmExample());

  private Examples() {}

  /** All examples, the CLI demo's default first. */
  public static List<Example> all() {
    return ALL;
  }

  /**
   * The example called {@code name}.
   *
   * @throws IllegalArgumentException naming the known examples when there is none
   */
  public static Example get(String name) {
    for (Example e : ALL) {
      if (e.name().equals(name)) {
        return e;
      }
    }
    throw new IllegalArgumentException("unknown example '" + name + "'; examples: " + names());
  }

  public static List<String> names() {
    return ALL.stream().map(Example::name).collect(Collectors.toList());
  }

  /** Runs one example with the default backends and prints its findings. */
  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("--list")) {
      for (Example e : ALL) {
        System.out.println(e.name() + "  " + e.description());
      }
      return;
    }
    String usage =
        "usage: Examples [NAME | --list]; examples: "
            + names()
            + " (on your own export of a family: halfbisect demo --example NAME --model MY.onnx)";
    if (args.length > 1 || (args.length == 1 && args[0].startsWith("-"))) {
      // a model path given here was silently dropped and the bundled model ran
      System.err.println(usage);
      System.exit(2);
    }
    String name = args.length > 0 ? args[0] : "timesformer";
    Example example;
    try {
      example = get(name);
    } catch (IllegalArgumentException e) {
      System.err.println("unknown example '" + name + "'; " + usage);
      System.exit(2);
      return;
    }
    ExampleOutcome r = example.run(ExampleOptions.defaults());
    System.out.println();
    System.out.println(
        "first divergent node: "
            + (r.firstDivergentNode().isEmpty() ? "none" : r.firstDivergentNode()));
    System.out.println(
        "fix: "
            + r.fp32Nodes().size()
            + " node(s) in FP32, "
            + (r.fixPasses() ? "passes" : "fails"));
  }
}
