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
    if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || t.dtype().byteSize() == 1) {
      direct.put(src);
    } else {
      putSwapped(src, direct, t.dtype().byteSize());
    }
    direct.flip();
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
    if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || dtype.byteSize() == 1) {
      little.put(raw);
    } else {
      putSwapped(raw, little, dtype.byteSize());
    }
    little.flip();
    return Tensor.ofBytes(dtype, info.getShape(), little.asReadOnlyBuffer());
  }

  /** The core dtype of an ONNX Runtime element type, or null when halfbisect has none. */
  static DType dtypeOf(OnnxTensorType type) {
    // The Java enum's numeric value is not the ONNX TensorProto code, so map by constant.
    switch (type) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
        return DType.FLOAT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
        return DType.FLOAT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
        return DType.BFLOAT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
        return DType.FLOAT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
        return DType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
        return DType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
        return DType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
        return DType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
        return DType.BOOL;
      default:
        return null;
    }
  }

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
