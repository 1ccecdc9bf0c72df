package dev.halfbisect.trt.worker;

import dev.halfbisect.core.DType;
import org.bytedeco.tensorrt.global.nvinfer.DataType;
import org.bytedeco.tensorrt.global.nvinfer.LayerType;
import org.bytedeco.tensorrt.nvinfer.Dims64;

/**
 * Conversions between TensorRT enums/dims and halfbisect types. Native calls return enum values
 * that are not the Java constants, so every comparison goes through {@code .value}.
 */
final class NativeTypes {
  private NativeTypes() {}

  static DType dtype(DataType t) {
    int v = t.value;
    if (v == DataType.kFLOAT.value) return DType.FLOAT32;
    if (v == DataType.kHALF.value) return DType.FLOAT16;
    if (v == DataType.kBF16.value) return DType.BFLOAT16;
    if (v == DataType.kINT32.value) return DType.INT32;
    if (v == DataType.kINT64.value) return DType.INT64;
    if (v == DataType.kINT8.value) return DType.INT8;
    if (v == DataType.kUINT8.value) return DType.UINT8;
    if (v == DataType.kBOOL.value) return DType.BOOL;
    throw new IllegalArgumentException(
        "TensorRT data type " + name(t) + " has no halfbisect dtype");
  }

  static boolean isFloat(DataType t) {
    int v = t.value;
    return v == DataType.kFLOAT.value || v == DataType.kHALF.value || v == DataType.kBF16.value;
  }

  static String name(DataType t) {
    for (DataType d : DataType.values()) {
      if (d.value == t.value) {
        return d.name();
      }
    }
    return "DataType(" + t.value + ")";
  }

  static String name(LayerType t) {
    for (LayerType d : LayerType.values()) {
      if (d.value == t.value) {
        return d.name();
      }
    }
    return "LayerType(" + t.value + ")";
  }

  static long[] shape(Dims64 d) {
    long[] s = new long[Math.max(0, d.nbDims())];
    for (int i = 0; i < s.length; i++) {
      s[i] = d.d(i);
    }
    return s;
  }

  static Dims64 dims(long[] shape) {
    Dims64 d = new Dims64();
    d.nbDims(shape.length);
    for (int i = 0; i < shape.length; i++) {
      d.d(i, shape[i]);
    }
    return d;
  }
}
