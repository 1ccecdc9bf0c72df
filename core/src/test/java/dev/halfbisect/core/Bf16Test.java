package dev.halfbisect.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Bf16Test {

  private static boolean isNaN(short b) {
    return (b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0;
  }

  /** The value of bfloat16 bits from the definition (sign, 8-bit exponent, 7-bit mantissa). */
  private static double definitionValue(int b) {
    int sign = (b >> 15) & 1;
    int exp = (b >> 7) & 0xff;
    int mant = b & 0x7f;
    double v;
    if (exp == 0) {
      v = mant * Math.pow(2, -133);
    } else if (exp == 255) {
      v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else {
      v = (1 + mant / 128.0) * Math.pow(2, exp - 127);
    }
    return sign == 1 ? -v : v;
  }

  /**
   * An independent fromFloat: round |f| to a multiple of the bfloat16 ulp of its binade with
   * BigDecimal-free double Math.rint (ties to even), then rebuild the value; null for NaN.
   */
  private static Float referenceRound(float f) {
    if (Float.isNaN(f) || Float.isInfinite(f)) {
      return Float.isNaN(f) ? null : f;
    }
    double a = Math.abs((double) f);
    if (a == 0) {
      return f;
    }
    int e = Math.max(Math.getExponent(a), -126);
    double ulp = Math.scalb(1.0, e - 7);
    double r = Math.rint(a / ulp) * ulp; // exact: a / ulp has at most 24 significant bits
    float out = r > Bf16.MAX_VALUE ? Float.POSITIVE_INFINITY : (float) r;
    return f < 0 || (f == 0 && 1 / f < 0) ? -out : out;
  }

  @Test
  void everyBf16RoundTripsExactlyAndMatchesItsDefinition() {
    for (int i = 0; i < 65536; i++) {
      short b = (short) i;
      float f = Bf16.toFloat(b);
      double def = definitionValue(i);
      if (isNaN(b)) {
        assertThat(f).isNaN();
        assertThat(isNaN(Bf16.fromFloat(f))).as("NaN %04x stays NaN", i).isTrue();
        continue;
      }
      assertThat((double) f).as("value of %04x", i).isEqualTo(def);
      assertThat(Bf16.fromFloat(f)).as("round trip of %04x", i).isEqualTo(b);
    }
  }

  @Test
  void tiesRoundToEvenBetweenEveryPairOfNeighbours() {
    // the float exactly halfway between two neighbouring bf16 values: bits low half 0x8000
    for (int hi = 0; hi < 0x7f80; hi++) {
      float mid = Float.intBitsToFloat((hi << 16) | 0x8000);
      int expected = (hi & 1) == 0 ? hi : hi + 1;
      assertThat(Bf16.fromFloat(mid) & 0xffff).as("tie above %04x", hi).isEqualTo(expected);
      assertThat(Bf16.fromFloat(-mid) & 0xffff)
          .as("tie above -%04x", hi)
          .isEqualTo(expected | 0x8000);
      // just off the tie: rounds to the nearer neighbour whatever the parity
      assertThat(Bf16.fromFloat(Float.intBitsToFloat((hi << 16) | 0x7fff)) & 0xffff).isEqualTo(hi);
      assertThat(Bf16.fromFloat(Float.intBitsToFloat((hi << 16) | 0x8001)) & 0xffff)
          .isEqualTo(hi + 1);
    }
  }

  @Test
  void agreesWithAnIndependentRoundingOnRandomFloats() {
    SplittableRandom r = new SplittableRandom(19);
    for (int i = 0; i < 200_000; i++) {
      float f = Float.intBitsToFloat(r.nextInt());
      Float want = referenceRound(f);
      if (want == null) {
        assertThat(Bf16.round(f)).isNaN();
      } else {
        assertThat(Bf16.round(f)).as("round(%s)", f).isEqualTo(want);
      }
    }
  }

  @Test
  void infinityNaNAndRangeEdges() {
    assertThat(Bf16.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7f80);
    assertThat(Bf16.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xff80);
    // NaN: quiet, sign and top payload kept (a payload only in the low 16 bits must not become inf)
    assertThat(Bf16.fromFloat(Float.intBitsToFloat(0x7f800001))).isEqualTo((short) 0x7fc0);
    assertThat(Bf16.fromFloat(Float.intBitsToFloat(0xffa50000))).isEqualTo((short) 0xffe5);
    assertThat(Bf16.MAX_VALUE).isEqualTo(new BigDecimal("3.38953139e38").floatValue());
    // float32's largest value is above MAX_VALUE + half an ulp: it rounds to infinity (why the
    // emulation clamps constants such as -FLT_MAX attention masks to -MAX_VALUE first)
    assertThat(Bf16.round(Float.MAX_VALUE)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(Bf16.round(-Float.MAX_VALUE)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(LowPrecision.BF16.clampToRange(-Float.MAX_VALUE)).isEqualTo(-Bf16.MAX_VALUE);
    // 65520 overflows FP16 but is a plain BF16 value (65536 after rounding)
    assertThat(Bf16.round(65520f)).isEqualTo(65536f);
    assertThat(Half.round(65520f)).isEqualTo(Float.POSITIVE_INFINITY);
    // subnormals: float32's subnormals are kept, shortened to 7 mantissa bits
    assertThat(Bf16.round(Bf16.MIN_VALUE)).isEqualTo(Bf16.MIN_VALUE);
    assertThat(Bf16.round(Float.MIN_VALUE)).isEqualTo(0f);
    assertThat(Bf16.round(0x1.8p-134f)).isEqualTo(Bf16.MIN_VALUE);
    assertThat(Bf16.round(-0f)).isEqualTo(-0f);
    assertThat(1 / Bf16.round(-0f)).isNegative();
    assertThat(Bf16.fromFloat(-0f)).isEqualTo((short) 0x8000);
  }

  @Test
  void halfDelegatesAndLowPrecisionNamesEachTypesFacts() {
    assertThat(Half.bfloat16FromFloat(1.00390625f)).isEqualTo(Bf16.fromFloat(1.00390625f));
    assertThat(LowPrecision.ofMode("bf16-emulated")).isEqualTo(LowPrecision.BF16);
    assertThat(LowPrecision.ofMode("bf16-strong")).isEqualTo(LowPrecision.BF16);
    assertThat(LowPrecision.ofMode("fp16-strong")).isEqualTo(LowPrecision.FP16);
    assertThat(LowPrecision.ofMode("fp16")).isEqualTo(LowPrecision.FP16);
    assertThat(LowPrecision.BF16.unitRoundoff()).isEqualTo(0x1p-8);
    assertThat(LowPrecision.FP16.unitRoundoff()).isEqualTo(0x1p-11);
    assertThat(LowPrecision.BF16.onnxCode()).isEqualTo(16);
    assertThat(LowPrecision.FP16.onnxCode()).isEqualTo(10);
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7 in BF16 (even: 1) but exact in FP16
    assertThat(LowPrecision.BF16.round(1 + 0x1p-8f)).isEqualTo(1f);
    assertThat(LowPrecision.FP16.round(1 + 0x1p-8f)).isEqualTo(1 + 0x1p-8f);
    assertThat(LowPrecision.BF16.fromBits(LowPrecision.BF16.toBits(3f))).isEqualTo(3f);
  }
}
