package dev.halfbisect.core;

import java.util.Locale;

/**
 * Element types halfbisect reads, writes and compares. Each constant knows its ONNX {@code
 * TensorProto.DataType} code, its size in bytes and its NumPy {@code descr}, so tensors move
 * between ONNX models, backends and {@code .npy} files without a lookup table elsewhere.
 */
public enum DType {
  FLOAT32(1, 4, "<f4", true),
  UINT8(2, 1, "|u1", false),
  INT8(3, 1, "|i1", false),
  INT32(6, 4, "<i4", false),
  INT64(7, 8, "<i8", false),
  BOOL(9, 1, "|b1", false),
  FLOAT16(10, 2, "<f2", true),
  FLOAT64(11, 8, "<f8", true),
  BFLOAT16(16, 2, "<V2", true);

  private final int onnxCode;
  private final int byteSize;
  private final String npyDescr;
  private final boolean floating;

  DType(int onnxCode, int byteSize, String npyDescr, boolean floating) {
    this.onnxCode = onnxCode;
    this.byteSize = byteSize;
    this.npyDescr = npyDescr;
    this.floating = floating;
  }

  /** ONNX {@code TensorProto.DataType} number. */
  public int onnxCode() {
    return onnxCode;
  }

  public int byteSize() {
    return byteSize;
  }

  /**
   * NumPy type string. bfloat16 has no NumPy type; it is written as two-byte void ({@code <V2}) the
   * way ml_dtypes-less tools store it.
   */
  public String npyDescr() {
    return npyDescr;
  }

  public boolean isFloatingPoint() {
    return floating;
  }

  /** Lower-case name as used on the command line: float32, float16, int64, ... */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The dtype with the given ONNX code, or {@code null} when halfbisect does not handle it. */
  public static DType fromOnnxCode(int code) {
    for (DType t : values()) {
      if (t.onnxCode == code) {
        return t;
      }
    }
    return null;
  }

  /**
   * Parses a command-line or NumPy-style name: {@code float32}, {@code fp16}, {@code half}, {@code
   * int64}, {@code bool}, ...
   *
   * @throws IllegalArgumentException naming the accepted names
   */
  public static DType parse(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    switch (n) {
      case "float":
      case "float32":
      case "fp32":
      case "f32":
        return FLOAT32;
      case "half":
      case "float16":
      case "fp16":
      case "f16":
        return FLOAT16;
      case "bfloat16":
      case "bf16":
        return BFLOAT16;
      case "double":
      case "float64":
      case "fp64":
      case "f64":
        return FLOAT64;
      case "int64":
      case "long":
      case "i64":
        return INT64;
      case "int32":
      case "int":
      case "i32":
        return INT32;
      case "int8":
      case "i8":
        return INT8;
      case "uint8":
      case "u8":
        return UINT8;
      case "bool":
      case "boolean":
        return BOOL;
      default:
        throw new IllegalArgumentException(
            "unknown dtype '"
                + name
                + "': expected one of float32, float16, bfloat16, float64, int64, int32, int8, uint8, bool");
    }
  }
}
