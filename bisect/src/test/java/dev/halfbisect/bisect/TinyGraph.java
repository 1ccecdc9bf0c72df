package dev.halfbisect.bisect;

import com.google.protobuf.ByteString;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** A minimal fluent ONNX graph writer for bisect tests (float32 tensors only). */
final class TinyGraph {
  private final Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("tiny");
  private int constants;

  TinyGraph input(String name, long... shape) {
    g.addInput(info(name, shape));
    return this;
  }

  TinyGraph output(String name) {
    g.addOutput(
        Onnx.ValueInfoProto.newBuilder()
            .setName(name)
            .setType(
                Onnx.TypeProto.newBuilder()
                    .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1))));
    return this;
  }

  TinyGraph init(String name, long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    Onnx.TensorProto.Builder t =
        Onnx.TensorProto.newBuilder()
            .setName(name)
            .setDataType(1)
            .setRawData(ByteString.copyFrom(b.array()));
    for (long d : shape) {
      t.addDims(d);
    }
    g.addInitializer(t);
    return this;
  }

  /** A scalar constant initializer, returning its name. */
  String scalar(float v) {
    String name = "c" + (constants++);
    init(name, new long[0], v);
    return name;
  }

  String randomMatrix(String name, int rows, int cols, float scale, Random rnd) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rnd.nextGaussian() * scale);
    }
    init(name, new long[] {rows, cols}, v);
    return name;
  }

  /**
   * Adds a Constant node {@code name} holding a float scalar, returning its output (named like the
   * node).
   */
  String constant(String name, float v) {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, v);
    Onnx.TensorProto t =
        Onnx.TensorProto.newBuilder()
            .setDataType(1)
            .setRawData(ByteString.copyFrom(b.array()))
            .build();
    g.addNode(
        Onnx.NodeProto.newBuilder()
            .setOpType("Constant")
            .setName(name)
            .addOutput(name)
            .addAttribute(
                Onnx.AttributeProto.newBuilder()
                    .setName("value")
                    .setType(Onnx.AttributeProto.AttributeType.TENSOR)
                    .setT(t)));
    return name;
  }

  /** Adds node {@code name} = op(inputs), output tensor named like the node. */
  String node(String op, String name, String... inputs) {
    Onnx.NodeProto.Builder n =
        Onnx.NodeProto.newBuilder().setOpType(op).setName(name).addOutput(name);
    for (String i : inputs) {
      n.addInput(i);
    }
    if (op.equals("ReduceMean")) {
      n.addAttribute(
          Onnx.AttributeProto.newBuilder()
              .setName("axes")
              .setType(Onnx.AttributeProto.AttributeType.INTS)
              .addInts(-1));
    }
    g.addNode(n);
    return name;
  }

  Onnx.ModelProto build() {
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(8)
        .setGraph(g)
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .build();
  }

  ModelGraph graph(String name) {
    return ModelGraph.of(build(), null, name);
  }

  private static Onnx.ValueInfoProto info(String name, long[] shape) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : shape) {
      // A negative dimension is symbolic (named), as in models exported with dynamic axes.
      s.addDim(
          d >= 0
              ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d)
              : Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("dyn" + (-d)));
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s)))
        .build();
  }
}
