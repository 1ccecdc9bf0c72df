package dev.halfbisect.ort;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks a sample against a session's inputs before anything native runs, so that a wrong feed gets
 * a message naming the input, what the model expects and what was given.
 */
final class InputValidation {
  private InputValidation() {}

  /**
   * @throws IllegalArgumentException for missing or unknown names, or a dtype, rank or static dim
   *     that does not match; the message lists the model's inputs
   */
  static void check(String modelName, List<TensorInfo> expected, Map<String, Tensor> given) {
    List<String> missing = new ArrayList<>();
    for (TensorInfo info : expected) {
      if (!given.containsKey(info.name())) {
        missing.add(info.name());
      }
    }
    List<String> extra = new ArrayList<>();
    for (String name : given.keySet()) {
      if (expected.stream().noneMatch(i -> i.name().equals(name))) {
        extra.add(name);
      }
    }
    if (!missing.isEmpty() || !extra.isEmpty()) {
      StringBuilder sb =
          new StringBuilder("inputs of model '").append(modelName).append("' do not match:");
      if (!missing.isEmpty()) {
        sb.append(" missing ").append(missing);
      }
      if (!extra.isEmpty()) {
        sb.append(missing.isEmpty() ? "" : ";").append(" not inputs of the model ").append(extra);
      }
      throw new IllegalArgumentException(sb.append("; ").append(listing(expected)).toString());
    }
    for (TensorInfo info : expected) {
      Tensor t = given.get(info.name());
      if (t == null) {
        throw new IllegalArgumentException(
            "input '" + info.name() + "' is null; " + listing(expected));
      }
      if (!info.accepts(t)) {
        throw new IllegalArgumentException(
            "input '"
                + info.name()
                + "': expected "
                + typeAndShape(info)
                + ", got "
                + t.dtype().cliName()
                + " ["
                + Tensor.shapeToString(t.shape())
                + "]; "
                + listing(expected));
      }
    }
  }

  /** {@code int64 [?x128]}. */
  static String typeAndShape(TensorInfo info) {
    long[] shape = info.shape();
    StringBuilder sb =
        new StringBuilder(info.dtype() == null ? "unknown" : info.dtype().cliName()).append(" [");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : "x").append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
    }
    return sb.append(']').toString();
  }

  private static String listing(List<TensorInfo> expected) {
    return "model inputs: "
        + expected.stream()
            .map(i -> i.name() + " " + typeAndShape(i))
            .collect(Collectors.joining(", "));
  }
}
