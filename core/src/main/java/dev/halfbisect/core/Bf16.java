package dev.halfbisect.core;

/**
 * Exact bfloat16 conversion (issue 19). bfloat16 is the top half of a float32: 8 exponent bits
 * (float32's range, largest finite {@link #MAX_VALUE} = 3.3895314e38) and 7 mantissa bits (unit
 * roundoff 2^-8, against FP16's 2^-11). {@link #fromFloat} rounds to nearest, ties to even, keeps
 * subnormals (float32's subnormals shortened like any other value), overflows to infinity only
 * above {@code MAX_VALUE} plus half an ulp, and keeps NaN a quiet NaN with its sign and top payload
 * bits.
 */
public final class Bf16 {
  /** Largest finite bfloat16 value, (2 - 2^-7) * 2^127. */
  public static final float MAX_VALUE = Float.intBitsToFloat(0x7f7f0000);

  /** Smallest positive normal bfloat16 value, 2^-126 (float32's). */
  public static final float MIN_NORMAL = 0x1p-126f;

  /** Smallest positive subnormal bfloat16 value, 2^-133. */
  public static final float MIN_VALUE = 0x1p-133f;

  private Bf16() {}

  /** Rounds a float to the nearest bfloat16 value and returns its bits. */
  public static short fromFloat(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7fffffff) > 0x7f800000) { // NaN: keep sign and top payload, force quiet
      return (short) ((bits >>> 16) | 0x40);
    }
    // round the 16 dropped bits to nearest even: adding 0x7fff plus the kept lsb carries exactly
    // when the rest is above half, or half with an odd lsb; a carry out of the mantissa bumps the
    // exponent (and past the largest finite value gives infinity), as it should
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  /** Widens bfloat16 bits to the float of exactly the same value. */
  public static float toFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** The float that a bfloat16 store-and-load of {@code value} yields. */
  public static float round(float value) {
    return toFloat(fromFloat(value));
  }

  /** Rounds every element of {@code values} to bfloat16 precision in place. */
  public static void roundInPlace(float[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = round(values[i]);
    }
  }
}
