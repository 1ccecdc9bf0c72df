package dev.halfbisect.bisect.testing;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A tensor value inside {@link InterpreterBackend}: the interpreter computes in float, and the
 * dtype is kept so that Cast results and non-float inputs leave the session with their own type.
 */
record Value(DType dtype, long[] shape, float[] data) {
  static Value floats(long[] shape, float[] data) {
    return new Value(DType.FLOAT32, shape, data);
  }

  static Value of(Tensor t) {
    return new Value(t.dtype(), t.shape(), t.toFloatArray());
  }

  /** An initializer or Constant value: float32 or int64, raw or typed data. */
  static Value of(Onnx.TensorProto t) {
    long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (t.getDataType() == DType.FLOAT32.onnxCode()) {
      float[] d;
      if (t.getFloatDataCount() > 0) {
        d = new float[t.getFloatDataCount()];
        for (int i = 0; i < d.length; i++) {
          d[i] = t.getFloatData(i);
        }
      } else {
        d = new float[raw.remaining() / 4];
        raw.asFloatBuffer().get(d);
      }
      return floats(shape, d);
    }
    if (t.getDataType() == DType.INT64.onnxCode()) {
      long[] l;
      if (t.getInt64DataCount() > 0) {
        l = t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
      } else {
        l = new long[raw.remaining() / 8];
        raw.asLongBuffer().get(l);
      }
      return of(Tensor.ofLongs(shape, l));
    }
    throw new IllegalArgumentException(
        "the interpreter handles float32/int64 tensors only, not ONNX data type "
            + t.getDataType()
            + " in '"
            + t.getName()
            + "'");
  }

  /**
   * The value as binary16 would hold it, for float32 values of FP16 nodes; other dtypes as they
   * are.
   */
  Value roundedToHalf() {
    if (dtype != DType.FLOAT32) {
      return this;
    }
    float[] r = data.clone();
    Half.roundInPlace(r);
    return new Value(dtype, shape, r);
  }

  Tensor toTensor() {
    return Tensor.fromFloats(dtype, shape, data);
  }
}
