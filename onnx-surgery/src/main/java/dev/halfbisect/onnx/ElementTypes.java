package dev.halfbisect.onnx;

/**
 * Facts about ONNX {@code TensorProto.DataType} numbers, including the ones core's {@code DType}
 * does not model (strings, 16-bit and unsigned integers, float8, 4-bit types): names for messages,
 * byte sizes, and whether a number is a known type at all.
 */
final class ElementTypes {
  static final int UNDEFINED = 0;
  static final int FLOAT = 1;
  static final int UINT8 = 2;
  static final int INT32 = 6;
  static final int INT64 = 7;
  static final int STRING = 8;
  static final int BOOL = 9;
  static final int FLOAT16 = 10;
  static final int DOUBLE = 11;
  static final int BFLOAT16 = 16;

  /** Names by code; index = ONNX number. 24-26 come from ONNX releases newer than the schema. */
  private static final String[] NAMES = {
    "UNDEFINED",
    "FLOAT",
    "UINT8",
    "INT8",
    "UINT16",
    "INT16",
    "INT32",
    "INT64",
    "STRING",
    "BOOL",
    "FLOAT16",
    "DOUBLE",
    "UINT32",
    "UINT64",
    "COMPLEX64",
    "COMPLEX128",
    "BFLOAT16",
    "FLOAT8E4M3FN",
    "FLOAT8E4M3FNUZ",
    "FLOAT8E5M2",
    "FLOAT8E5M2FNUZ",
    "UINT4",
    "INT4",
    "FLOAT4E2M1",
    "FLOAT8E8M0",
    "UINT2",
    "INT2"
  };

  /** Bytes per element; 0 = no fixed size (undefined, string, sub-byte types). */
  private static final int[] SIZES = {
    0, 4, 1, 1, 2, 2, 4, 8, 0, 1, 2, 8, 4, 8, 8, 16, 2, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0
  };

  private ElementTypes() {}

  /** Whether {@code code} is an element type ONNX defines (0 = undefined counts as known). */
  static boolean isKnown(int code) {
    return code >= 0 && code < NAMES.length;
  }

  static String name(int code) {
    return isKnown(code) ? NAMES[code] + "(" + code + ")" : "unknown(" + code + ")";
  }

  static int byteSize(int code) {
    return isKnown(code) ? SIZES[code] : 0;
  }

  /** 4-bit types stored two per byte. */
  static boolean isPackedNibble(int code) {
    return code == 21 || code == 22 || code == 23;
  }

  /** float32, float16, bfloat16 or float64: the types FP16 conversion is about. */
  static boolean isFloat(int code) {
    return code == FLOAT || code == FLOAT16 || code == BFLOAT16 || code == DOUBLE;
  }
}
