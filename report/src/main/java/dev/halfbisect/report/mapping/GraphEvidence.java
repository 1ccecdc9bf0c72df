package dev.halfbisect.report.mapping;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.annotation.CheckForNull;

/** What the graph tells about a node beyond the engine's numbers: its inputs and weights. */
final class GraphEvidence {
  private GraphEvidence() {}

  /** The node's float inputs that are not initializers, in input order. */
  static List<String> floatInputs(ModelGraph g, String node) {
    List<String> in = new ArrayList<>();
    for (String t : g.node(node).getInputList()) {
      if (!t.isEmpty() && !g.isInitializer(t) && g.isFloat(t)) {
        in.add(t);
      }
    }
    return in;
  }

  /** Largest finite |value| over the node's float initializer inputs; null when it has none. */
  @CheckForNull
  static Double weightMaxAbs(ModelGraph g, String node) {
    Double max = null;
    for (String t : g.node(node).getInputList()) {
      // Only float initializers are read: the type check comes before the values are decoded.
      Optional<Tensor> init =
          t.isEmpty() || !g.isFloat(t) ? Optional.empty() : g.initializerValues(t);
      if (init.isEmpty()) {
        continue;
      }
      float[] v = init.get().toFloatArray();
      double m = 0;
      for (float x : v) {
        if (Float.isFinite(x)) {
          m = Math.max(m, Math.abs(x));
        }
      }
      max = max == null ? m : Math.max(max, m);
    }
    return max;
  }
}
