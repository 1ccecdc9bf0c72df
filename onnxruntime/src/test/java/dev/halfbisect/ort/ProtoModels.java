package dev.halfbisect.ort;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.proto.Onnx;

/** Tiny test models written directly as ONNX protos. */
final class ProtoModels {
  private ProtoModels() {}

  static Onnx.ValueInfoProto value(String name, DType dtype, long... dims) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      Onnx.TensorShapeProto.Dimension.Builder dim = Onnx.TensorShapeProto.Dimension.newBuilder();
      if (d < 0) {
        dim.setDimParam("batch");
      } else {
        dim.setDimValue(d);
      }
      shape.addDim(dim);
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(
                    Onnx.TypeProto.Tensor.newBuilder()
                        .setElemType(dtype.onnxCode())
                        .setShape(shape)))
        .build();
  }

  static Onnx.NodeProto node(String op, String name, String[] inputs, String... outputs) {
    Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(name);
    for (String i : inputs) {
      n.addInput(i);
    }
    for (String o : outputs) {
      n.addOutput(o);
    }
    return n.build();
  }

  static ModelRef model(String name, Onnx.GraphProto graph) {
    Onnx.ModelProto m =
        Onnx.ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("halfbisect-test")
            .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
            .setGraph(graph.toBuilder().setName(name))
            .build();
    return ModelRef.ofBytes(name, m.toByteArray(), null);
  }

  /** {@code y = Identity(x)} for one dtype and shape. */
  static ModelRef identity(DType dtype, long... dims) {
    return model(
        "identity_" + dtype.cliName(),
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", dtype, dims))
            .addOutput(value("y", dtype, dims))
            .addNode(node("Identity", "id", new String[] {"x"}, "y"))
            .build());
  }

  /**
   * {@code ids int64 [?x4]}, {@code x float32 [?x4]}: {@code sum = Add(x, x)}, {@code prod =
   * Mul(sum, x)}, {@code out = Add(prod, Cast(ids))}; intermediates {@code sum}, {@code prod},
   * {@code ids_f}.
   */
  static ModelRef twoInputs() {
    return model(
        "two_inputs",
        Onnx.GraphProto.newBuilder()
            .addInput(value("ids", DType.INT64, -1, 4))
            .addInput(value("x", DType.FLOAT32, -1, 4))
            .addOutput(value("out", DType.FLOAT32, -1, 4))
            .addNode(node("Add", "add_xx", new String[] {"x", "x"}, "sum"))
            .addNode(node("Mul", "mul", new String[] {"sum", "x"}, "prod"))
            .addNode(
                Onnx.NodeProto.newBuilder()
                    .setOpType("Cast")
                    .setName("cast_ids")
                    .addInput("ids")
                    .addOutput("ids_f")
                    .addAttribute(
                        Onnx.AttributeProto.newBuilder()
                            .setName("to")
                            .setType(Onnx.AttributeProto.AttributeType.INT)
                            .setI(DType.FLOAT32.onnxCode())))
            .addNode(node("Add", "add_out", new String[] {"prod", "ids_f"}, "out"))
            .build());
  }

  static Onnx.NodeProto cast(String name, String input, String output, DType to) {
    return Onnx.NodeProto.newBuilder()
        .setOpType("Cast")
        .setName(name)
        .addInput(input)
        .addOutput(output)
        .addAttribute(
            Onnx.AttributeProto.newBuilder()
                .setName("to")
                .setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(to.onnxCode()))
        .build();
  }

  /**
   * The shape of FP16 emulation written by hand: {@code y = Cast<float>(Cast<float16>(Mul(x, x)))}
   * then {@code z = Add(y, x)}; a level that folds the Cast pair would return the unrounded square.
   */
  static ModelRef castPair(long n) {
    return model(
        "cast_pair",
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", DType.FLOAT32, n))
            .addOutput(value("z", DType.FLOAT32, n))
            .addNode(node("Mul", "square", new String[] {"x", "x"}, "sq"))
            .addNode(cast("to_half", "sq", "sq_h", DType.FLOAT16))
            .addNode(cast("to_float", "sq_h", "y", DType.FLOAT32))
            .addNode(node("Add", "add", new String[] {"y", "x"}, "z"))
            .build());
  }
}
