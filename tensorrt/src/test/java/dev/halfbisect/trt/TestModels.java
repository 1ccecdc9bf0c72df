package dev.halfbisect.trt;

import com.google.protobuf.ByteString;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

/**
 * Small ONNX models made from protobuf messages for backend tests: a scaled, decomposed LayerNorm
 * whose {@code Pow} overflows FP16 (|x - mean| above 256 squares past 65504), a projection, and
 * bool / int64 / int32 side outputs so every output dtype path is exercised.
 */
public final class TestModels {
  /** Nodes of the decomposed LayerNorm, the ones a plan pins to fix the overflow. */
  public static final List<String> LAYER_NORM_NODES =
      List.of("ln_mean", "ln_sub", "ln_pow", "ln_var", "ln_add_eps", "ln_sqrt", "ln_div");

  private TestModels() {}

  /**
   * The overflow model with input {@code x} float32 [batch, seq, hidden]; batch is the symbolic dim
   * {@code batch} when {@code dynamicBatch}, else 1. Outputs: y (float), y_pos (bool), y_arg
   * (int64), y_i32 (int32).
   */
  public static byte[] overflowLayerNorm(int seq, int hidden, float scale, boolean dynamicBatch) {
    Random r = new Random(7);
    float[] w = new float[hidden * hidden];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() / Math.sqrt(hidden));
    }
    float[] b = new float[hidden];
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (0.1 * r.nextGaussian());
    }
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("overflow_layernorm");
    g.addInput(valueInfo("x", 1, dynamicBatch ? -1 : 1, seq, hidden));
    g.addOutput(valueInfo("y", 1, dynamicBatch ? -1 : 1, seq, hidden));
    g.addOutput(valueInfo("y_pos", 9, dynamicBatch ? -1 : 1, seq, hidden));
    g.addOutput(valueInfo("y_arg", 7, dynamicBatch ? -1 : 1, seq, 1));
    g.addOutput(valueInfo("y_i32", 6, dynamicBatch ? -1 : 1, seq, 1));
    g.addInitializer(floats("c_scale", new long[0], scale));
    g.addInitializer(floats("c_two", new long[0], 2f));
    g.addInitializer(floats("c_eps", new long[0], 1e-5f));
    g.addInitializer(floats("W", new long[] {hidden, hidden}, w));
    g.addInitializer(floats("B", new long[] {hidden}, b));
    g.addNode(node("scale_mul", "Mul", List.of("x", "c_scale"), "xs"));
    g.addNode(
        node("ln_mean", "ReduceMean", List.of("xs"), "mu")
            .addAttribute(ints("axes", -1))
            .addAttribute(intAttr("keepdims", 1)));
    g.addNode(node("ln_sub", "Sub", List.of("xs", "mu"), "d"));
    g.addNode(node("ln_pow", "Pow", List.of("d", "c_two"), "d2"));
    g.addNode(
        node("ln_var", "ReduceMean", List.of("d2"), "var")
            .addAttribute(ints("axes", -1))
            .addAttribute(intAttr("keepdims", 1)));
    g.addNode(node("ln_add_eps", "Add", List.of("var", "c_eps"), "ve"));
    g.addNode(node("ln_sqrt", "Sqrt", List.of("ve"), "sd"));
    g.addNode(node("ln_div", "Div", List.of("d", "sd"), "n"));
    g.addNode(node("proj", "MatMul", List.of("n", "W"), "p"));
    g.addNode(node("proj_bias", "Add", List.of("p", "B"), "y"));
    g.addNode(node("positive", "Greater", List.of("y", "c_eps"), "y_pos"));
    g.addNode(
        node("argmax", "ArgMax", List.of("y"), "y_arg")
            .addAttribute(intAttr("axis", -1))
            .addAttribute(intAttr("keepdims", 1)));
    g.addNode(node("to_i32", "Cast", List.of("y_arg"), "y_i32").addAttribute(intAttr("to", 6)));
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("halfbisect-tests")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g)
        .build()
        .toByteArray();
  }

  /**
   * A pre-LayerNorm transformer made with onnx-surgery's GraphBuilder (opset 13, decomposed
   * LayerNorm and Erf GELU as exports write them): input {@code x} float32 [1, seq, dModel] scaled
   * by {@code inputScale}, {@code blocks} blocks of attention + MLP, final LayerNorm, output {@code
   * y}. A large scale overflows the FP16 {@code Pow} inside the LayerNorms (nodes under {@code
   * /ln}).
   */
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  public static byte[] transformer(int blocks, int seq, int dModel, int heads, float inputScale) {
    dev.halfbisect.onnx.builder.GraphBuilder g =
        dev.halfbisect.onnx.builder.GraphBuilder.create("tiny_transformer", 13).seed(1);
    String x = g.input("x", dev.halfbisect.core.DType.FLOAT32, 1, seq, dModel);
    String h;
    try (var s = g.scope("/embed")) {
      h = g.mul(x, g.scalarLike(x, inputScale));
    }
    for (int i = 0; i < blocks; i++) {
      try (var s = g.scope("/blocks/blocks." + i)) {
        String n1;
        try (var l = g.scope("ln1")) {
          n1 = g.layerNorm(h, dModel, 1e-5f, false);
        }
        try (var a = g.scope("attn")) {
          h = g.add(h, g.attention(n1, dModel, heads, null));
        }
        String n2;
        try (var l = g.scope("ln2")) {
          n2 = g.layerNorm(h, dModel, 1e-5f, false);
        }
        try (var m = g.scope("mlp")) {
          String up;
          try (var f = g.scope("fc1")) {
            up = g.geluErf(g.linear(n2, dModel, 4 * dModel));
          }
          try (var f = g.scope("fc2")) {
            h = g.add(h, g.linear(up, 4 * dModel, dModel));
          }
        }
      }
    }
    try (var s = g.scope("/ln_f")) {
      h = g.layerNorm(h, dModel, 1e-5f, false);
    }
    g.output(h, "y");
    return g.build().toBytes();
  }

  /** Random normal input for {@link #overflowLayerNorm}. */
  public static float[] normalInput(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  private static Onnx.NodeProto.Builder node(String name, String op, List<String> in, String out) {
    return Onnx.NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(in).addOutput(out);
  }

  private static Onnx.AttributeProto ints(String name, long... v) {
    Onnx.AttributeProto.Builder a =
        Onnx.AttributeProto.newBuilder()
            .setName(name)
            .setType(Onnx.AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private static Onnx.AttributeProto intAttr(String name, long v) {
    return Onnx.AttributeProto.newBuilder()
        .setName(name)
        .setType(Onnx.AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  private static Onnx.TensorProto floats(String name, long[] dims, float... v) {
    ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    bb.asFloatBuffer().put(v);
    Onnx.TensorProto.Builder t =
        Onnx.TensorProto.newBuilder()
            .setName(name)
            .setDataType(1)
            .setRawData(ByteString.copyFrom(bb.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  static Onnx.ValueInfoProto valueInfo(String name, int elemType, long... dims) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(
          d < 0
              ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
              : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(
                    Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
        .build();
  }
}
