package dev.halfbisect.onnx;

import com.google.protobuf.ByteString;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Tiny models built directly with the protobuf builders. */
public final class TestModels {
  private TestModels() {}

  public static Onnx.NodeProto node(
      String op,
      String name,
      List<String> inputs,
      List<String> outputs,
      Onnx.AttributeProto... attrs) {
    Onnx.NodeProto.Builder b =
        Onnx.NodeProto.newBuilder().setOpType(op).addAllInput(inputs).addAllOutput(outputs);
    if (name != null) {
      b.setName(name);
    }
    for (Onnx.AttributeProto a : attrs) {
      b.addAttribute(a);
    }
    return b.build();
  }

  static Onnx.AttributeProto intAttr(String name, long v) {
    return Onnx.AttributeProto.newBuilder()
        .setName(name)
        .setType(Onnx.AttributeProto.AttributeType.INT)
        .setI(v)
        .build();
  }

  static Onnx.AttributeProto graphAttr(String name, Onnx.GraphProto g) {
    return Onnx.AttributeProto.newBuilder()
        .setName(name)
        .setType(Onnx.AttributeProto.AttributeType.GRAPH)
        .setG(g)
        .build();
  }

  static Onnx.AttributeProto tensorAttr(String name, Onnx.TensorProto t) {
    return Onnx.AttributeProto.newBuilder()
        .setName(name)
        .setType(Onnx.AttributeProto.AttributeType.TENSOR)
        .setT(t)
        .build();
  }

  public static Onnx.ValueInfoProto value(String name, int elemType, long... dims) {
    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      Onnx.TensorShapeProto.Dimension.Builder db = Onnx.TensorShapeProto.Dimension.newBuilder();
      if (d >= 0) {
        db.setDimValue(d);
      } else {
        db.setDimParam("n");
      }
      s.addDim(db);
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(
                    Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
        .build();
  }

  static Onnx.TensorProto floats(String name, long[] dims, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    b.flip();
    Onnx.TensorProto.Builder t =
        Onnx.TensorProto.newBuilder()
            .setName(name)
            .setDataType(1)
            .setRawData(ByteString.copyFrom(b));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  public static Onnx.ModelProto model(Onnx.GraphProto g, long opset) {
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("halfbisect-test")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(g)
        .build();
  }

  /**
   * x[1,4] -> Relu(a) -> Add(b, with initializer w) -> Mul(c, by x) -> y, plus a dead Neg node and
   * an unused initializer. Nodes: relu, add, mul, dead.
   */
  static Onnx.ModelProto chain() {
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .setName("chain")
            .addInput(value("x", 1, 1, 4))
            .addInitializer(floats("w", new long[] {4}, 1f, 2f, 3f, 4f))
            .addInitializer(floats("unused", new long[] {2}, 7f, 8f))
            .addNode(node("Relu", "relu", List.of("x"), List.of("a")))
            .addNode(node("Add", "add", List.of("a", "w"), List.of("b")))
            .addNode(node("Neg", "dead", List.of("b"), List.of("d")))
            .addNode(node("Mul", "mul", List.of("b", "x"), List.of("y")))
            .addOutput(value("y", 1, 1, 4))
            .build();
    return model(g, 17);
  }
}
