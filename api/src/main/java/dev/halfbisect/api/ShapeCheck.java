package dev.halfbisect.api;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks a {@link ShapeSet} against the model's declared inputs before anything runs (issue 20):
 * every named input exists, has the declared rank, keeps its fixed dims and has dims >= 1. Each
 * failure is a usage error naming the input, the dim index and what the model declares.
 */
final class ShapeCheck {
  private ShapeCheck() {}

  static void check(ModelGraph g, ShapeSet set) {
    for (String name : set.shapes().keySet()) {
      long[] dims = set.dims(name);
      if (!g.graphInputs().contains(name)) {
        List<String> inputs = new ArrayList<>();
        g.graphInputs().forEach(i -> inputs.add(declared(g, i)));
        throw HalfBisectException.usage(
            "--shape "
                + set
                + ": model "
                + g.name()
                + " has no input '"
                + name
                + "'; its inputs are "
                + String.join(", ", inputs));
      }
      Optional<long[]> shape = g.shape(name);
      if (shape.isPresent() && shape.get().length != dims.length) {
        throw HalfBisectException.usage(
            "--shape "
                + set
                + ": input "
                + name
                + " is given "
                + dims.length
                + " dims but the model declares "
                + shape.get().length
                + ": "
                + declared(g, name));
      }
      for (int i = 0; i < dims.length; i++) {
        if (dims[i] < 1) {
          throw badDim(
              set,
              name,
              i,
              dims[i],
              ", dims must be >= 1 (the model declares " + declared(g, name) + ")");
        }
        long fixed = shape.isPresent() ? shape.get()[i] : -1;
        if (fixed > 0 && fixed != dims[i]) {
          throw badDim(
              set,
              name,
              i,
              dims[i],
              " but the model fixes it at "
                  + fixed
                  + ": "
                  + declared(g, name)
                  + " (only its dynamic dims can change)");
        }
      }
    }
  }

  /** {@code --shape SET: dim I of input NAME is D<why>}. */
  private static HalfBisectException badDim(Object set, String name, int i, long d, String why) {
    return HalfBisectException.usage(
        "--shape " + set + ": dim " + i + " of input " + name + " is " + d + why);
  }

  /** {@code x float32 [batch, 16]}: the declared input, symbolic dims by name, unknown as ?. */
  static String declared(ModelGraph g, String input) {
    String dtype = g.elementType(input).map(DType::cliName).orElse("unknown");
    Optional<long[]> shape = g.shape(input);
    if (shape.isEmpty()) {
      return input + " " + dtype + " (no declared shape)";
    }
    List<String> params = g.inputDimNames(input);
    List<String> dims = new ArrayList<>();
    for (int i = 0; i < shape.get().length; i++) {
      long d = shape.get()[i];
      String p = i < params.size() ? params.get(i) : "";
      dims.add(d > 0 ? Long.toString(d) : p.isEmpty() ? "?" : p);
    }
    return input + " " + dtype + " [" + String.join(", ", dims) + "]";
  }
}
