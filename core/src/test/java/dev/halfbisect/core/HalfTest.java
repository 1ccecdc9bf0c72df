package dev.halfbisect.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class HalfTest {

  private static boolean isHalfNaN(short h) {
    return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
  }

  /** The value of half bits computed from the IEEE definition in double arithmetic. */
  private static double halfValue(int h) {
    int sign = (h >> 15) & 1;
    int exp = (h >> 10) & 0x1f;
    int mant = h & 0x3ff;
    double v;
    if (exp == 0) {
      v = mant * Math.pow(2, -24);
    } else if (exp == 31) {
      v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else {
      v = (1 + mant / 1024.0) * Math.pow(2, exp - 15);
    }
    return sign == 1 ? -v : v;
  }

  /**
   * An independent fromFloat: round |f| to a multiple of the half ulp of its binade with Math.rint
   * (ties to even) in double, then build the bits from the rounded value.
   */
  static int referenceFromFloat(float f) {
    int sign = (Float.floatToRawIntBits(f) >>> 31) << 15;
    double a = Math.abs((double) f);
    if (Double.isNaN(a)) {
      return -1;
    }
    if (a == 0) {
      return sign;
    }
    int e = Math.max(Math.getExponent(a), -14);
    double ulp = Math.scalb(1.0, e - 10);
    double r = Math.rint(a / ulp) * ulp; // exact: a / ulp has at most 24 significant bits
    if (r > 65504) {
      return sign | 0x7c00;
    }
    if (r < 0x1p-14) {
      return sign | (int) (r / 0x1p-24);
    }
    int re = Math.getExponent(r);
    int mant = (int) ((r / Math.scalb(1.0, re) - 1) * 1024);
    return sign | ((re + 15) << 10) | mant;
  }

  @Test
  void everyHalfRoundTripsExactlyAndNaNStaysNaN() {
    for (int i = 0; i < 65536; i++) {
      short h = (short) i;
      float f = Half.toFloat(h);
      double expected = halfValue(i);
      if (isHalfNaN(h)) {
        assertThat(Float.isNaN(f)).as("bits %04x", i).isTrue();
        assertThat(isHalfNaN(Half.fromFloat(f))).as("bits %04x", i).isTrue();
        // sign and top payload bits survive
        assertThat(Half.fromFloat(f) & 0x81ff).as("bits %04x", i).isEqualTo(i & 0x81ff);
      } else {
        assertThat((double) f).as("bits %04x", i).isEqualTo(expected);
        assertThat(Half.fromFloat(f)).as("bits %04x", i).isEqualTo(h);
      }
    }
    // signed zeros keep their sign
    assertThat(Float.floatToRawIntBits(Half.toFloat((short) 0x8000))).isEqualTo(0x80000000);
  }

  @Test
  void boundaries() {
    assertThat(Half.fromFloat(65504f)).isEqualTo((short) 0x7bff);
    assertThat(Half.fromFloat(65519.996f)).isEqualTo((short) 0x7bff);
    assertThat(Half.fromFloat(Math.nextDown(65520f))).isEqualTo((short) 0x7bff);
    assertThat(Half.fromFloat(65520f)).isEqualTo((short) 0x7c00);
    assertThat(Half.fromFloat(-65520f)).isEqualTo((short) 0xfc00);
    assertThat(Half.fromFloat(1e10f)).isEqualTo((short) 0x7c00);
    assertThat(Half.fromFloat(Float.MAX_VALUE)).isEqualTo((short) 0x7c00);
    assertThat(Half.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7c00);
    assertThat(Half.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xfc00);
    assertThat(isHalfNaN(Half.fromFloat(Float.NaN))).isTrue();
    // a signalling-looking float NaN whose payload sits only in the low bits stays a NaN
    assertThat(isHalfNaN(Half.fromFloat(Float.intBitsToFloat(0x7f800001)))).isTrue();
    assertThat(isHalfNaN(Half.fromFloat(Float.intBitsToFloat(0xff800001)))).isTrue();

    assertThat(Half.fromFloat(0x1p-24f)).isEqualTo((short) 0x0001);
    assertThat(Half.fromFloat(0x1p-25f)).isEqualTo((short) 0x0000); // tie to even: zero
    assertThat(Half.fromFloat(-0x1p-25f)).isEqualTo((short) 0x8000);
    assertThat(Half.fromFloat(Math.nextUp(0x1p-25f))).isEqualTo((short) 0x0001);
    assertThat(Half.fromFloat(Math.nextDown(0x1p-25f))).isEqualTo((short) 0x0000);
    assertThat(Half.fromFloat(1.5f * 0x1p-24f)).isEqualTo((short) 0x0002); // tie 1.5 -> 2 (even)
    assertThat(Half.fromFloat(2.5f * 0x1p-24f)).isEqualTo((short) 0x0002); // tie 2.5 -> 2 (even)
    assertThat(Half.fromFloat(Float.MIN_VALUE)).isEqualTo((short) 0);
    assertThat(Half.fromFloat(0x1p-14f)).isEqualTo((short) 0x0400);
    float maxSubnormal = 1023 * 0x1p-24f;
    assertThat(Half.fromFloat(maxSubnormal)).isEqualTo((short) 0x03ff);
    assertThat(Half.toFloat((short) 0x03ff)).isEqualTo(maxSubnormal);
    // halfway between max subnormal and min normal rounds to the even one: min normal
    assertThat(Half.fromFloat(1023.5f * 0x1p-24f)).isEqualTo((short) 0x0400);
    assertThat(Half.fromFloat(Math.nextDown(1023.5f * 0x1p-24f))).isEqualTo((short) 0x03ff);

    // ties to even in the normal range: the ulp of [1, 2) is 2^-10
    assertThat(Half.fromFloat(1f + 0x1p-11f)).isEqualTo((short) 0x3c00); // 1 + half ulp -> 1 (even)
    assertThat(Half.fromFloat(1f + 3 * 0x1p-11f))
        .isEqualTo((short) 0x3c02); // 1 + 1.5 ulp -> 1 + 2 ulp
    assertThat(Half.fromFloat(Math.nextUp(1f + 0x1p-11f))).isEqualTo((short) 0x3c01);
    assertThat(Half.fromFloat(2049f)).isEqualTo((short) 0x6800); // 2049 is a tie -> 2048
    assertThat(Half.fromFloat(2051f)).isEqualTo((short) 0x6802); // 2051 -> 2052
    assertThat(Half.fromFloat(-2051f)).isEqualTo((short) 0xe802);
    assertThat(Half.fromFloat(0.1f)).isEqualTo((short) 0x2e66);
    assertThat(Half.fromFloat(-1f)).isEqualTo((short) 0xbc00);
    assertThat(Half.fromFloat(-0f)).isEqualTo((short) 0x8000);
    assertThat(Half.round(0.1f)).isEqualTo(0.0999755859375f);
    // carry from the mantissa into the exponent
    assertThat(Half.fromFloat(Math.nextDown(2f))).isEqualTo((short) 0x4000);
  }

  @Test
  void fromFloatMatchesDoubleArithmeticReferenceOnEverySeventhFloat() {
    AtomicLong checked = new AtomicLong();
    // 2^32 / 7 = 613 million bit patterns, split into chunks for the two cores
    IntStream.range(0, 64)
        .parallel()
        .forEach(
            chunk -> {
              long start = (1L << 32) * chunk / 64;
              long end = (1L << 32) * (chunk + 1) / 64;
              long first = start + Math.floorMod(-start, 7L);
              long n = 0;
              for (long b = first; b < end; b += 7) {
                float f = Float.intBitsToFloat((int) b);
                short h = Half.fromFloat(f);
                int ref = referenceFromFloat(f);
                if (ref < 0) {
                  if (!isHalfNaN(h)) {
                    throw new AssertionError(
                        "NaN " + Long.toHexString(b) + " -> " + Integer.toHexString(h & 0xffff));
                  }
                } else if ((h & 0xffff) != ref) {
                  throw new AssertionError(
                      "float bits "
                          + Long.toHexString(b)
                          + " ("
                          + f
                          + "): got "
                          + Integer.toHexString(h & 0xffff)
                          + ", expected "
                          + Integer.toHexString(ref));
                }
                n++;
              }
              checked.addAndGet(n);
            });
    assertThat(checked.get()).isEqualTo(((1L << 32) + 6) / 7);
  }

  @Test
  void referenceAgreesOnEveryTieAndNeighbourAroundEachHalf() {
    // every half value, its midpoints to the next half and their float neighbours
    for (int i = 0; i < 0x7c00; i++) {
      float lo = Half.toFloat((short) i);
      float hi = Half.toFloat((short) (i + 1));
      float mid = (float) (((double) lo + hi) / 2);
      for (float f :
          new float[] {mid, Math.nextUp(mid), Math.nextDown(mid), -mid, -Math.nextUp(mid)}) {
        assertThat(Half.fromFloat(f) & 0xffff).as("%s", f).isEqualTo(referenceFromFloat(f));
      }
    }
  }

  @Test
  void bulkVariantsMatchScalarConversion() {
    float[] src = {0f, -0f, 1f, 0.1f, 65504f, 65520f, -1e-8f, 0x1p-24f, Float.NaN, 3.14159f};
    short[] bits = Half.fromFloats(src);
    float[] back = Half.toFloats(bits);
    for (int i = 0; i < src.length; i++) {
      assertThat(bits[i]).isEqualTo(Half.fromFloat(src[i]));
      assertThat(Float.floatToIntBits(back[i]))
          .isEqualTo(Float.floatToIntBits(Half.toFloat(bits[i])));
    }
    short[] dst = new short[6];
    Half.fromFloats(src, 2, dst, 1, 4);
    assertThat(dst)
        .containsExactly(
            (short) 0,
            Half.fromFloat(1f),
            Half.fromFloat(0.1f),
            (short) 0x7bff,
            (short) 0x7c00,
            (short) 0);
    float[] wide = new float[5];
    Half.toFloats(new short[] {0x3c00, 0x4000, (short) 0xc000}, 1, wide, 2, 2);
    assertThat(wide).containsExactly(0f, 0f, 2f, -2f, 0f);
    float[] inPlace = src.clone();
    Half.roundInPlace(inPlace);
    for (int i = 0; i < src.length; i++) {
      assertThat(Float.floatToIntBits(inPlace[i]))
          .isEqualTo(Float.floatToIntBits(Half.round(src[i])));
    }
    assertThat(inPlace[3]).isEqualTo(0.0999755859375f);
    assertThat(inPlace[5]).isEqualTo(Float.POSITIVE_INFINITY);
  }

  @Test
  void bfloat16RoundsToNearestEven() {
    assertThat(Half.bfloat16FromFloat(1f)).isEqualTo((short) 0x3f80);
    assertThat(Half.bfloat16ToFloat((short) 0x3f80)).isEqualTo(1f);
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even -> 1
    assertThat(Half.bfloat16FromFloat(1f + 0x1p-8f)).isEqualTo((short) 0x3f80);
    assertThat(Half.bfloat16FromFloat(1f + 3 * 0x1p-8f)).isEqualTo((short) 0x3f82);
    assertThat(Half.bfloat16FromFloat(Math.nextUp(1f + 0x1p-8f))).isEqualTo((short) 0x3f81);
    assertThat(Half.bfloat16FromFloat(Float.MAX_VALUE)).isEqualTo((short) 0x7f80);
    assertThat(Half.bfloat16FromFloat(-Float.MAX_VALUE)).isEqualTo((short) 0xff80);
    assertThat(
            Float.isNaN(
                Half.bfloat16ToFloat(Half.bfloat16FromFloat(Float.intBitsToFloat(0x7f800001)))))
        .isTrue();
    for (int i = 0; i < 65536; i++) {
      float f = Half.bfloat16ToFloat((short) i);
      if (!Float.isNaN(f)) {
        assertThat(Half.bfloat16FromFloat(f)).isEqualTo((short) i);
      }
    }
  }
}
