package dev.halfbisect.onnx.builder;

import com.google.protobuf.ByteString;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;

/** Tensor to {@code TensorProto} for the builder: dims, data type and little-endian raw_data. */
final class TensorProtos {
  private TensorProtos() {}

  static Onnx.TensorProto of(String name, Tensor t) {
    Onnx.TensorProto.Builder b =
        Onnx.TensorProto.newBuilder()
            .setName(name)
            .setDataType(t.dtype().onnxCode())
            .setRawData(ByteString.copyFrom(t.bytes()));
    for (long d : t.shape()) {
      b.addDims(d);
    }
    return b.build();
  }
}
