package dev.halfbisect.core;

/**
 * Exact IEEE 754 binary16 conversion. {@link #fromFloat} rounds to nearest, ties to even, keeps
 * subnormals, overflows to infinity from 65520 up (the first value that rounds past 65504) and
 * keeps NaN a NaN (quiet, sign and top payload bits preserved).
 */
public final class Half {
  /** Largest finite half value. */
  public static final float MAX_VALUE = 65504f;

  /** Smallest positive normal half value, 2^-14. */
  public static final float MIN_NORMAL = 0x1p-14f;

  /** Smallest positive subnormal half value, 2^-24. */
  public static final float MIN_VALUE = 0x1p-24f;

  private Half() {}

  /** Rounds a float to the nearest binary16 value and returns its bits. */
  public static short fromFloat(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) { // inf or NaN
      if (abs == 0x7f800000) {
        return (short) (sign | 0x7c00);
      }
      return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff));
    }
    if (abs >= 0x477ff000) { // >= 65520: rounds to infinity
      return (short) (sign | 0x7c00);
    }
    if (abs >= 0x38800000) { // normal half range: >= 2^-14
      // rebias exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even:
      // adding 0xfff plus the kept lsb carries exactly when the rest is above half, or half with
      // an odd lsb (branch-free: random mantissas made the branch mispredict half the time)
      return (short) (sign | ((abs - 0x38000000 + 0xfff + ((abs >>> 13) & 1)) >>> 13));
    }
    if (abs < 0x33000000) { // < 2^-25: rounds to zero (2^-25 itself is a tie to even zero)
      return (short) sign;
    }
    // subnormal half: value = m * 2^-24 with m in [0, 1024]
    int exp = abs >>> 23;
    int mant = (abs & 0x7fffff) | 0x800000;
    int shift = 126 - exp; // number of bits to drop so that the unit is 2^-24
    // same carry trick as above, with a rounding point that depends on the exponent
    return (short) (sign | ((mant + (1 << (shift - 1)) - 1 + ((mant >>> shift) & 1)) >>> shift));
  }

  /** Widens binary16 bits to the float of exactly the same value. */
  public static float toFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp != 0) {
      return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
    if (mant == 0) {
      return Float.intBitsToFloat(sign);
    }
    float v = mant * MIN_VALUE; // exact: mant < 2^10
    return sign != 0 ? -v : v;
  }

  /** The float that an FP16 store-and-load of {@code value} yields. */
  public static float round(float value) {
    return toFloat(fromFloat(value));
  }

  /** Converts {@code src} into new half bits. */
  public static short[] fromFloats(float[] src) {
    short[] out = new short[src.length];
    fromFloats(src, 0, out, 0, src.length);
    return out;
  }

  public static void fromFloats(float[] src, int srcPos, short[] dst, int dstPos, int length) {
    for (int i = 0; i < length; i++) {
      dst[dstPos + i] = fromFloat(src[srcPos + i]);
    }
  }

  /** Widens {@code src} into new floats. */
  public static float[] toFloats(short[] src) {
    float[] out = new float[src.length];
    toFloats(src, 0, out, 0, src.length);
    return out;
  }

  public static void toFloats(short[] src, int srcPos, float[] dst, int dstPos, int length) {
    for (int i = 0; i < length; i++) {
      dst[dstPos + i] = toFloat(src[srcPos + i]);
    }
  }

  /** Rounds every element of {@code values} to FP16 precision in place. */
  public static void roundInPlace(float[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = toFloat(fromFloat(values[i]));
    }
  }

  /** bfloat16 bits (round to nearest even) of a float; see {@link Bf16#fromFloat}. */
  public static short bfloat16FromFloat(float value) {
    return Bf16.fromFloat(value);
  }

  /** See {@link Bf16#toFloat}. */
  public static float bfloat16ToFloat(short bits) {
    return Bf16.toFloat(bits);
  }
}
