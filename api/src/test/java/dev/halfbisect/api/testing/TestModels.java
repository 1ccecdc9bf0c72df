package dev.halfbisect.api.testing;

import com.google.protobuf.ByteString;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Tiny ONNX models for facade, CLI and JUnit tests, built from the protobuf classes. */
public final class TestModels {
  private TestModels() {}

  /**
   * {@code x[1x16] -> scale = x*300 (Mul "scale") -> square = scale^2 (Pow "square") -> shrink =
   * square*1e-4 (Mul "shrink") -> out = shrink + x (Add "out_add")}. With x in [-1, 1) the square
   * reaches 90000 &gt; 65504: FP16 overflows in "square" and, because "shrink" reads it in FP16,
   * keeping both "square" and "shrink" in FP32 fixes it.
   */
  public static Onnx.ModelProto overflow() {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("overflow");
    g.addInput(floatInput("x", 1, 16));
    g.addInitializer(scalar("k300", 300f))
        .addInitializer(scalar("two", 2f))
        .addInitializer(scalar("k1e4", 1e-4f));
    g.addNode(node("scale", "Mul", "x", "k300", "scaled"));
    g.addNode(node("square", "Pow", "scaled", "two", "squared"));
    g.addNode(node("shrink", "Mul", "squared", "k1e4", "shrunk"));
    g.addNode(node("out_add", "Add", "shrunk", "x", "out"));
    g.addOutput(Onnx.ValueInfoProto.newBuilder().setName("out").setType(floatType(1, 16)));
    return model(g);
  }

  /** {@link #roundingChain()}'s all-FP16 normalized error on the interpreter's FP16 emulation. */
  public static double roundingChainError() {
    return dev.halfbisect.api.HalfBisect.model(roundingChain(), null, "chain.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .compare()
        .outputs()
        .get(0)
        .normalizedError();
  }

  /**
   * {@code x[1x16] -> *1.1 -> *0.9 -> +0.3 -> *1.7 -> +0.1 -> y}: no overflow, only FP16 rounding
   * at every node, so each node kept in FP32 lowers the error a little.
   */
  public static Onnx.ModelProto roundingChain() {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("rounding_chain");
    g.addInput(floatInput("x", 1, 16));
    float[] c = {1.1f, 0.9f, 0.3f, 1.7f, 0.1f};
    String[] op = {"Mul", "Mul", "Add", "Mul", "Add"};
    String in = "x";
    for (int i = 0; i < c.length; i++) {
      g.addInitializer(scalar("c" + i, c[i]));
      String out = i == c.length - 1 ? "y" : "t" + i;
      g.addNode(node("n" + i, op[i], in, "c" + i, out));
      in = out;
    }
    g.addOutput(Onnx.ValueInfoProto.newBuilder().setName("y").setType(floatType(1, 16)));
    return model(g);
  }

  /** {@code x[1x8] -> Relu -> *0.5 -> y}: FP16 passes at the default tolerance. */
  public static Onnx.ModelProto healthy() {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("healthy");
    g.addInput(floatInput("x", 1, 8));
    g.addInitializer(scalar("half", 0.5f));
    g.addNode(node("relu", "Relu", "x", null, "r"));
    g.addNode(node("halve", "Mul", "r", "half", "y"));
    g.addOutput(Onnx.ValueInfoProto.newBuilder().setName("y").setType(floatType(1, 8)));
    return model(g);
  }

  /** A model whose only node the interpreter backend refuses to build (a backend error). */
  public static Onnx.ModelProto unbuildable() {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("unbuildable");
    g.addInput(floatInput("x", 1, 4));
    g.addNode(node("bad", "Fail", "x", null, "y"));
    g.addOutput(Onnx.ValueInfoProto.newBuilder().setName("y").setType(floatType(1, 4)));
    return model(g);
  }

  public static Path write(Onnx.ModelProto m, Path file) throws IOException {
    Files.write(file, m.toByteArray());
    return file;
  }

  private static Onnx.ModelProto model(Onnx.GraphProto.Builder g) {
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("halfbisect-tests")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .setGraph(g)
        .build();
  }

  private static Onnx.NodeProto node(String name, String op, String a, String b, String out) {
    Onnx.NodeProto.Builder n =
        Onnx.NodeProto.newBuilder().setName(name).setOpType(op).addInput(a).addOutput(out);
    if (b != null) {
      n.addInput(b);
    }
    return n.build();
  }

  private static Onnx.TensorProto scalar(String name, float v) {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v);
    return Onnx.TensorProto.newBuilder()
        .setName(name)
        .setDataType(1)
        .setRawData(ByteString.copyFrom(b.array()))
        .build();
  }

  private static Onnx.TypeProto floatType(long... dims) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.TypeProto.newBuilder()
        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))
        .build();
  }

  private static Onnx.ValueInfoProto floatInput(String name, long... dims) {
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(floatType(dims)).build();
  }

  // ---- issue 19: converted models for --plan-from ----

  /**
   * {@link #overflow()} as ModelOpt AutoCast would convert it to FP16: {@code scale} in FP16 (its
   * weight {@code k300} stored as float16), an FP32 island {@code square, shrink, out_add} with
   * Casts named {@code <tensor>_cast_to_fp16} / {@code <tensor>_cast_to_fp32} at its borders, graph
   * I/O float32. Of the island, {@code out_add} is unnecessary: {@code square} and {@code shrink}
   * alone fix the overflow.
   */
  public static Onnx.ModelProto overflowAutoCast() {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("overflow");
    g.addInput(floatInput("x", 1, 16));
    ByteBuffer h = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
    h.putShort(dev.halfbisect.core.Half.fromFloat(300f));
    g.addInitializer(
        Onnx.TensorProto.newBuilder()
            .setName("k300")
            .setDataType(10)
            .setRawData(ByteString.copyFrom(h.array())));
    g.addInitializer(scalar("two", 2f)).addInitializer(scalar("k1e4", 1e-4f));
    g.addNode(cast("x_cast_to_fp16", "x", "x_fp16", 10));
    g.addNode(node("scale", "Mul", "x_fp16", "k300", "scaled"));
    g.addNode(cast("scaled_cast_to_fp32", "scaled", "scaled_fp32", 1));
    g.addNode(node("square", "Pow", "scaled_fp32", "two", "squared"));
    g.addNode(node("shrink", "Mul", "squared", "k1e4", "shrunk"));
    g.addNode(node("out_add", "Add", "shrunk", "x", "out"));
    g.addOutput(Onnx.ValueInfoProto.newBuilder().setName("out").setType(floatType(1, 16)));
    return model(g);
  }

  private static Onnx.NodeProto cast(String name, String in, String out, int to) {
    return Onnx.NodeProto.newBuilder()
        .setName(name)
        .setOpType("Cast")
        .addInput(in)
        .addOutput(out)
        .addAttribute(
            Onnx.AttributeProto.newBuilder()
                .setName("to")
                .setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(to))
        .build();
  }
}
