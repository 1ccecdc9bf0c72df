package dev.halfbisect.core;

import java.util.Locale;

/**
 * The low-precision float type a candidate computes in (issue 19): FP16 or BF16. The one place that
 * holds each type's numbers (range, rounding error, smallest values), which the emulation, the
 * FP16/BF16 rewrite and the root-cause classes read. A backend mode names its type: modes
 * containing {@code bf16} ({@code ort:bf16-emulated}, {@code trt:bf16-strong}) test BF16, every
 * other low-precision mode FP16.
 */
public enum LowPrecision {
  /** IEEE binary16: range +-65504, unit roundoff 2^-11. */
  FP16(DType.FLOAT16, Half.MAX_VALUE, 0x1p-11, Half.MIN_NORMAL, Half.MIN_VALUE),
  /** bfloat16: float32's range (+-3.39e38), unit roundoff 2^-8. */
  BF16(DType.BFLOAT16, Bf16.MAX_VALUE, 0x1p-8, Bf16.MIN_NORMAL, Bf16.MIN_VALUE);

  private final DType dtype;
  private final float maxValue;
  private final double unitRoundoff;
  private final float minNormal;
  private final float minValue;

  LowPrecision(DType dtype, float maxValue, double unitRoundoff, float minNormal, float minValue) {
    this.dtype = dtype;
    this.maxValue = maxValue;
    this.unitRoundoff = unitRoundoff;
    this.minNormal = minNormal;
    this.minValue = minValue;
  }

  /** The type a backend mode computes in: BF16 when the mode names {@code bf16}, else FP16. */
  public static LowPrecision ofMode(String mode) {
    return mode != null && mode.toLowerCase(Locale.ROOT).contains("bf16") ? BF16 : FP16;
  }

  /** {@code fp16} / {@code bf16}: file names ({@code model-bf16.onnx}) and trtexec words. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The lowest ONNX opset whose Cast takes this type: 13 for bfloat16 (added to Cast then), 1 for
   * float16. Emulation rounds with Casts, so a model below it cannot be emulated in this type.
   */
  public long minimumCastOpset() {
    return this == BF16 ? 13 : 1;
  }

  /** The ONNX/tensor element type. */
  public DType dtype() {
    return dtype;
  }

  /** ONNX TensorProto data type code (10 for FLOAT16, 16 for BFLOAT16). */
  public int onnxCode() {
    return dtype.onnxCode();
  }

  /** Largest finite value. */
  public float maxValue() {
    return maxValue;
  }

  /** Relative rounding error bound of round-to-nearest: 2^-11 (FP16) or 2^-8 (BF16). */
  public double unitRoundoff() {
    return unitRoundoff;
  }

  /** Smallest positive normal value. */
  public float minNormal() {
    return minNormal;
  }

  /** Smallest positive subnormal value; below half of it a value rounds to zero. */
  public float minValue() {
    return minValue;
  }

  /** Bits of the nearest value (ties to even, overflow to infinity, NaN stays NaN). */
  public short toBits(float value) {
    return this == FP16 ? Half.fromFloat(value) : Bf16.fromFloat(value);
  }

  /** The float of exactly the value of {@code bits}. */
  public float fromBits(short bits) {
    return this == FP16 ? Half.toFloat(bits) : Bf16.toFloat(bits);
  }

  /** The float a store-and-load in this type yields. */
  public float round(float value) {
    return this == FP16 ? Half.round(value) : Bf16.round(value);
  }

  /**
   * Clamps finite values beyond this type's range to +-{@link #maxValue()} (TensorRT's weight
   * conversion rule); infinities and NaN stay what they are.
   */
  public float clampToRange(float v) {
    if (v > maxValue && v != Float.POSITIVE_INFINITY) {
      return maxValue;
    }
    if (v < -maxValue && v != Float.NEGATIVE_INFINITY) {
      return -maxValue;
    }
    return v;
  }
}
