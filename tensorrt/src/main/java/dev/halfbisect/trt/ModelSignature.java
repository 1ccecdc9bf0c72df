package dev.halfbisect.trt;

import com.google.common.collect.ImmutableList;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.HashSet;
import java.util.Set;

/**
 * Graph inputs and outputs of an ONNX model as declared in its file, read in the parent so that a
 * session knows whether it needs sample shapes (dynamic dims) before asking a worker to build.
 */
record ModelSignature(ImmutableList<TensorInfo> inputs, ImmutableList<String> outputs) {

  /**
   * Reads the signature of serialized model bytes.
   *
   * @throws IllegalArgumentException naming the model when the bytes are no ONNX model
   */
  static ModelSignature of(String modelName, byte[] bytes) {
    Onnx.GraphProto g;
    try {
      g = Onnx.ModelProto.parseFrom(bytes).getGraph();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "model " + modelName + " is not a valid ONNX file: " + e.getMessage(), e);
    }
    Set<String> initializers = new HashSet<>();
    g.getInitializerList().forEach(t -> initializers.add(t.getName()));
    ImmutableList.Builder<TensorInfo> in = ImmutableList.builder();
    for (Onnx.ValueInfoProto v : g.getInputList()) {
      if (!initializers.contains(v.getName())) {
        in.add(info(v));
      }
    }
    ImmutableList.Builder<String> out = ImmutableList.builder();
    g.getOutputList().forEach(v -> out.add(v.getName()));
    return new ModelSignature(in.build(), out.build());
  }

  /** Whether any input has a dimension that is not a fixed number. */
  boolean hasDynamicInputs() {
    return inputs.stream()
        .anyMatch(
            t -> {
              for (long d : t.shape()) {
                if (d < 0) {
                  return true;
                }
              }
              return false;
            });
  }

  private static TensorInfo info(Onnx.ValueInfoProto v) {
    Onnx.TypeProto.Tensor tt = v.getType().getTensorType();
    long[] shape = new long[tt.getShape().getDimCount()];
    for (int i = 0; i < shape.length; i++) {
      Onnx.TensorShapeProto.Dimension d = tt.getShape().getDim(i);
      shape[i] = d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1;
    }
    return new TensorInfo(v.getName(), DType.fromOnnxCode(tt.getElemType()), shape);
  }
}
