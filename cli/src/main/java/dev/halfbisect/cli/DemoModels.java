package dev.halfbisect.cli;

import com.google.protobuf.ByteString;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.examples.Example;
import dev.halfbisect.examples.Examples;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * The models {@code demo} can run: every example of the examples module ({@code timesformer}, ...),
 * and {@code timesformer-block}, a single TimeSformer-style block kept here as the smallest demo
 * (its decomposed LayerNorm overflows in FP16: squared deviations of activations around 300 exceed
 * 65504).
 */
final class DemoModels {
  /** A runnable demo: the model, and how to configure the facade for it. */
  interface Demo {
    String name();

    String description();

    OnnxModel model();

    HalfBisect configure(HalfBisect hb);
  }

  private DemoModels() {}

  static Demo get(String name) {
    if (Examples.names().contains(name)) {
      Example e = Examples.get(name);
      return new Demo() {
        @Override
        public String name() {
          return e.name();
        }

        @Override
        public String description() {
          return e.description();
        }

        @Override
        public OnnxModel model() {
          return e.buildModel();
        }

        @Override
        public HalfBisect configure(HalfBisect hb) {
          for (InputSpec s : e.inputs()) {
            hb = hb.input(s);
          }
          return hb;
        }
      };
    }
    if (name.equals("timesformer-block")) {
      return new Demo() {
        @Override
        public String name() {
          return "timesformer-block";
        }

        @Override
        public String description() {
          return "a TimeSformer-style block (patch embedding, residual, decomposed LayerNorm, Erf-GELU MLP, head) "
              + "whose LayerNorm variance overflows FP16";
        }

        @Override
        public OnnxModel model() {
          return timesformerBlock();
        }

        @Override
        public HalfBisect configure(HalfBisect hb) {
          return hb.input("frames:1x8x64:float32:-1..1").samples(2).seed(7);
        }
      };
    }
    throw new UsageException(
        "unknown example '"
            + name
            + "'; examples: "
            + String.join(", ", Examples.names())
            + ", timesformer-block");
  }

  /** The bundled block: frames[1x8x64] -> logits[1x10]. */
  static OnnxModel timesformerBlock() {
    Random rnd = new Random(42);
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("timesformer_block");
    g.addInput(valueInfo("frames", 1, 8, 64));
    init(g, "patch_embed.weight", gaussian(rnd, 64 * 64, 65), 64, 64);
    init(g, "attn.proj.weight", gaussian(rnd, 64 * 64, 0.05), 64, 64);
    init(g, "norm1.weight", constant(64, 1f), 64);
    init(g, "norm1.bias", constant(64, 0f), 64);
    init(g, "mlp.fc1.weight", gaussian(rnd, 64 * 128, 1 / 8.0), 64, 128);
    init(g, "mlp.fc2.weight", gaussian(rnd, 128 * 64, 1 / Math.sqrt(128)), 128, 64);
    init(g, "head.weight", gaussian(rnd, 64 * 10, 1 / 8.0), 64, 10);
    init(g, "two", new float[] {2f});
    init(g, "eps", new float[] {1e-5f});
    init(g, "half", new float[] {0.5f});
    init(g, "one", new float[] {1f});
    init(g, "inv_sqrt2", new float[] {(float) (1 / Math.sqrt(2))});
    node(g, "patch_embed/MatMul", "MatMul", "x0", "frames", "patch_embed.weight");
    node(g, "attn/proj/MatMul", "MatMul", "attn_out", "x0", "attn.proj.weight");
    node(g, "block/residual/Add", "Add", "x1", "x0", "attn_out");
    reduceMean(g, "norm1/ReduceMean", "norm1_mean", "x1");
    node(g, "norm1/Sub", "Sub", "norm1_dev", "x1", "norm1_mean");
    node(g, "norm1/Pow", "Pow", "norm1_sq", "norm1_dev", "two");
    reduceMean(g, "norm1/ReduceMean_1", "norm1_var", "norm1_sq");
    node(g, "norm1/Add", "Add", "norm1_var_eps", "norm1_var", "eps");
    node(g, "norm1/Sqrt", "Sqrt", "norm1_std", "norm1_var_eps");
    node(g, "norm1/Div", "Div", "norm1_norm", "norm1_dev", "norm1_std");
    node(g, "norm1/Mul", "Mul", "norm1_scaled", "norm1_norm", "norm1.weight");
    node(g, "norm1/Add_1", "Add", "norm1_out", "norm1_scaled", "norm1.bias");
    node(g, "mlp/fc1/MatMul", "MatMul", "fc1", "norm1_out", "mlp.fc1.weight");
    node(g, "mlp/gelu/Mul", "Mul", "gelu_s", "fc1", "inv_sqrt2");
    node(g, "mlp/gelu/Erf", "Erf", "gelu_erf", "gelu_s");
    node(g, "mlp/gelu/Add", "Add", "gelu_1p", "gelu_erf", "one");
    node(g, "mlp/gelu/Mul_1", "Mul", "gelu_x", "fc1", "gelu_1p");
    node(g, "mlp/gelu/Mul_2", "Mul", "gelu", "gelu_x", "half");
    node(g, "mlp/fc2/MatMul", "MatMul", "fc2", "gelu", "mlp.fc2.weight");
    reduceMeanAxis1(g, "pool/ReduceMean", "pooled", "fc2");
    node(g, "head/MatMul", "MatMul", "logits", "pooled", "head.weight");
    g.addOutput(valueInfo("logits", 1, 10));
    Onnx.ModelProto m =
        Onnx.ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("halfbisect-demo")
            .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
            .setGraph(g)
            .build();
    return OnnxModel.of(m, null, "timesformer-block.onnx");
  }

  private static void node(
      Onnx.GraphProto.Builder g, String name, String op, String out, String... in) {
    Onnx.NodeProto.Builder n =
        Onnx.NodeProto.newBuilder().setName(name).setOpType(op).addOutput(out);
    for (String i : in) {
      n.addInput(i);
    }
    g.addNode(n);
  }

  private static void reduceMean(Onnx.GraphProto.Builder g, String name, String out, String in) {
    g.addNode(
        Onnx.NodeProto.newBuilder()
            .setName(name)
            .setOpType("ReduceMean")
            .addInput(in)
            .addOutput(out)
            .addAttribute(
                Onnx.AttributeProto.newBuilder()
                    .setName("axes")
                    .setType(Onnx.AttributeProto.AttributeType.INTS)
                    .addInts(-1))
            .addAttribute(
                Onnx.AttributeProto.newBuilder()
                    .setName("keepdims")
                    .setType(Onnx.AttributeProto.AttributeType.INT)
                    .setI(1)));
  }

  private static void reduceMeanAxis1(
      Onnx.GraphProto.Builder g, String name, String out, String in) {
    g.addNode(
        Onnx.NodeProto.newBuilder()
            .setName(name)
            .setOpType("ReduceMean")
            .addInput(in)
            .addOutput(out)
            .addAttribute(
                Onnx.AttributeProto.newBuilder()
                    .setName("axes")
                    .setType(Onnx.AttributeProto.AttributeType.INTS)
                    .addInts(1))
            .addAttribute(
                Onnx.AttributeProto.newBuilder()
                    .setName("keepdims")
                    .setType(Onnx.AttributeProto.AttributeType.INT)
                    .setI(0)));
  }

  private static float[] gaussian(Random rnd, int n, double sigma) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextGaussian() * sigma);
    }
    return v;
  }

  private static float[] constant(int n, float c) {
    float[] v = new float[n];
    java.util.Arrays.fill(v, c);
    return v;
  }

  private static void init(Onnx.GraphProto.Builder g, String name, float[] v, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    Onnx.TensorProto.Builder t =
        Onnx.TensorProto.newBuilder()
            .setName(name)
            .setDataType(1)
            .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    g.addInitializer(t);
  }

  private static Onnx.ValueInfoProto valueInfo(String name, long... dims) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s)))
        .build();
  }
}
