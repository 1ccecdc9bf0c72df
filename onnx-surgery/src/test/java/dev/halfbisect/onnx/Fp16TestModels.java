package dev.halfbisect.onnx;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Small builder models shared by the FP16 conversion and emulation tests. */
final class Fp16TestModels {
  static final long[] X_SHAPE = {1, 4, 16};
  static final String NORM_SCOPE = "/blocks/blocks.0/norm1";
  private static final Set<String> LN_OPS =
      Set.of("ReduceMean", "Sub", "Pow", "Add", "Sqrt", "Div");

  private Fp16TestModels() {}

  /**
   * A transformer-block-like model: residual attention, then a decomposed LayerNorm (scope {@link
   * #NORM_SCOPE}), then an MLP with Erf-GELU. The residual branch is multiplied by {@code
   * residualScale}: at 600 the LayerNorm sees |x - mean| > 256, whose square overflows FP16.
   */
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  static Onnx.ModelProto block(float residualScale) {
    GraphBuilder g = GraphBuilder.create("block", 13).seed(11);
    String x = g.input("x", DType.FLOAT32, X_SHAPE);
    String h;
    try (GraphBuilder.Scope s = g.scope("/blocks/blocks.0")) {
      try (GraphBuilder.Scope a = g.scope("attn")) {
        h = g.add(g.mul(x, g.scalar(DType.FLOAT32, residualScale)), g.attention(x, 16, 4, null));
      }
      try (GraphBuilder.Scope a = g.scope("norm1")) {
        h = g.layerNorm(h, 16, 1e-5f, false);
      }
      try (GraphBuilder.Scope a = g.scope("mlp")) {
        String m;
        try (GraphBuilder.Scope f = g.scope("fc1")) {
          m = g.geluErf(g.linear(h, 16, 32));
        }
        try (GraphBuilder.Scope f = g.scope("fc2")) {
          h = g.add(h, g.linear(m, 32, 16));
        }
      }
    }
    g.output(h, "y");
    return g.buildProto();
  }

  /**
   * Names of the LayerNorm statistic nodes (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div) of {@link
   * #block}.
   */
  static List<String> layerNormNodes(Onnx.ModelProto m) {
    return m.getGraph().getNodeList().stream()
        .filter(n -> n.getName().startsWith(NORM_SCOPE + "/") && LN_OPS.contains(n.getOpType()))
        .filter(n -> !(n.getOpType().equals("Add") && n.getName().equals(lastAdd(m))))
        .map(Onnx.NodeProto::getName)
        .collect(Collectors.toList());
  }

  private static String lastAdd(Onnx.ModelProto m) {
    String last = null;
    for (Onnx.NodeProto n : m.getGraph().getNodeList()) {
      if (n.getName().startsWith(NORM_SCOPE + "/") && n.getOpType().equals("Add")) {
        last = n.getName();
      }
    }
    return last;
  }

  /** Input of {@link #block}: a sine of the given amplitude. */
  static Tensor blockInput(float amplitude) {
    float[] v = new float[64];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (amplitude * Math.sin(i * 1.3 + 0.2));
    }
    return Tensor.ofFloats(X_SHAPE, v);
  }

  /** Element type codes of every node input and output, as GraphIndex infers them. */
  static java.util.Map<String, Integer> types(Onnx.ModelProto m) {
    GraphIndex index = OnnxModel.of(m, null, "test").index();
    java.util.Map<String, Integer> out = new java.util.HashMap<>();
    for (Onnx.NodeProto n : m.getGraph().getNodeList()) {
      for (String t : n.getInputList()) {
        index.elementTypeCode(t).ifPresent(c -> out.put(t, c));
      }
      for (String t : n.getOutputList()) {
        index.elementTypeCode(t).ifPresent(c -> out.put(t, c));
      }
    }
    return out;
  }

  static boolean allFinite(float[] v) {
    for (float f : v) {
      if (!Float.isFinite(f)) {
        return false;
      }
    }
    return true;
  }

  static double normalizedError(float[] ref, float[] cand) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < ref.length; i++) {
      double d = (double) cand[i] - ref[i];
      num += d * d;
      den += (double) ref[i] * ref[i];
    }
    return Math.sqrt(num / den);
  }

  static Onnx.NodeProto node(Onnx.ModelProto m, String name) {
    return m.getGraph().getNodeList().stream()
        .filter(n -> n.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no node " + name));
  }
}
