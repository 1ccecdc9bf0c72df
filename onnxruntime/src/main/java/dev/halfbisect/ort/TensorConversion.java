package dev.halfbisect.ort;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves tensors between halfbisect's {@link Tensor} and ONNX Runtime's {@link OnnxTensor} as raw
 * bytes, so every dtype (float16 and bool included) crosses without a per-element conversion. ONNX
 * Runtime reads and writes buffers in native byte order; core tensors are little-endian.
 */
final class TensorConversion {
  private TensorConversion() {}

  /** A native tensor holding a copy of {@code t}'s data; the caller closes it. */
  static OnnxTensor toOnnx(OrtEnvironment env, Tensor t) throws OrtException {
    ByteBuffer src = t.bytes();
    ByteBuffer direct = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
    copyReordered(src, direct, t.dtype().byteSize());
    return OnnxTensor.createTensor(env, direct, t.shape(), javaType(t.dtype()));
  }

  /**
   * A core tensor with a copy of {@code value}'s data.
   *
   * @throws BackendException for an element type halfbisect has no {@link DType} for (string,
   *     uint16, ...)
   */
  static Tensor fromOnnx(String name, OnnxTensor value) throws BackendException {
    ai.onnxruntime.TensorInfo info = value.getInfo();
    DType dtype = dtypeOf(info.onnxType);
    if (dtype == null) {
      throw new BackendException(
          "output '"
              + name
              + "' has element type "
              + info.onnxType
              + ", which halfbisect does not handle");
    }
    ByteBuffer raw = value.getByteBuffer().order(ByteOrder.nativeOrder());
    ByteBuffer little = ByteBuffer.allocate(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    copyReordered(raw, little, dtype.byteSize());
    return Tensor.ofBytes(dtype, info.getShape(), little.asReadOnlyBuffer());
  }

  /** The core dtype of an ONNX Runtime element type, or null when halfbisect has none. */
  static DType dtypeOf(OnnxTensorType type) {
    // The inverse of javaType, through ONNX Runtime's own (one-to-one) Java-to-element-type map.
    for (DType d : DType.values()) {
      if (OnnxTensorType.mapFromJavaType(javaType(d)) == type) {
        return d;
      }
    }
    return null;
  }

  /** ONNX Runtime's Java type for a core dtype (every core dtype has one). */
  static OnnxJavaType javaType(DType dtype) {
    switch (dtype) {
      case FLOAT32:
        return OnnxJavaType.FLOAT;
      case FLOAT16:
        return OnnxJavaType.FLOAT16;
      case BFLOAT16:
        return OnnxJavaType.BFLOAT16;
      case FLOAT64:
        return OnnxJavaType.DOUBLE;
      case INT64:
        return OnnxJavaType.INT64;
      case INT32:
        return OnnxJavaType.INT32;
      case INT8:
        return OnnxJavaType.INT8;
      case UINT8:
        return OnnxJavaType.UINT8;
      case BOOL:
        return OnnxJavaType.BOOL;
      default:
        throw new AssertionError(dtype);
    }
  }

  /**
   * Copies {@code src} into {@code dst} (flipped, ready to read) between little-endian and native
   * order: as it is on a little-endian machine, each {@code width}-byte element reversed otherwise.
   */
  private static void copyReordered(ByteBuffer src, ByteBuffer dst, int width) {
    if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || width == 1) {
      dst.put(src);
    } else {
      putSwapped(src, dst, width);
    }
    dst.flip();
  }

  private static void putSwapped(ByteBuffer src, ByteBuffer dst, int width) {
    byte[] element = new byte[width];
    while (src.remaining() >= width) {
      src.get(element);
      for (int i = width - 1; i >= 0; i--) {
        dst.put(element[i]);
      }
    }
  }
}
