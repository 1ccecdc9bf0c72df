package dev.halfbisect.cli;

import com.google.common.collect.ImmutableMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The values of a repeatable {@code --atol}/{@code --rtol}: one plain bound {@code V} for every
 * tensor and {@code NAME:V} bounds for single tensors (the name is everything before the last
 * colon, so TensorFlow names such as {@code logits:0} work: {@code logits:0:1e-3}).
 */
record TensorBounds(Double global, ImmutableMap<String, Double> byTensor) {

  static TensorBounds parse(List<String> values, String option) {
    Double global = null;
    Map<String, Double> byTensor = new LinkedHashMap<>();
    for (String v : values) {
      String text = v.trim();
      Double plain = number(text);
      if (plain != null) {
        if (global != null) {
          throw new UsageException(option + " given twice without a tensor name: " + v);
        }
        global = check(plain, option, v);
        continue;
      }
      int colon = text.lastIndexOf(':');
      Double bound = colon > 0 ? number(text.substring(colon + 1)) : null;
      if (bound == null) {
        throw new UsageException(
            option + " " + v + ": expected a number or NAME:NUMBER, e.g. " + option + " out:1e-3");
      }
      String name = text.substring(0, colon);
      if (byTensor.put(name, check(bound, option, v)) != null) {
        throw new UsageException(option + " given twice for tensor " + name);
      }
    }
    return new TensorBounds(global, ImmutableMap.copyOf(byTensor));
  }

  private static Double number(String s) {
    try {
      return Double.valueOf(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static double check(double bound, String option, String v) {
    if (!(bound >= 0) || Double.isInfinite(bound)) {
      throw new UsageException(option + " " + v + ": the bound must be a finite number >= 0");
    }
    return bound;
  }
}
