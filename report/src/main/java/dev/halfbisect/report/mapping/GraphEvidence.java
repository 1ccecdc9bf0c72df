package dev.halfbisect.report.mapping;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.onnx.TensorData;
import dev.halfbisect.onnx.proto.Onnx;
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
      Optional<Onnx.TensorProto> init = t.isEmpty() ? Optional.empty() : g.initializer(t);
      if (init.isEmpty() || !g.isFloat(t)) {
        continue;
      }
      float[] v = TensorData.toTensor(init.get(), g.baseDir().orElse(null)).toFloatArray();
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
