package dev.halfbisect.core.verdict;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Half;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import org.junit.jupiter.api.Test;

/** The near-zero fallback of the default verdict and the saturation rule of the metrics. */
class NearZeroVerdictTest {
  private static float[] ramp(float scale) {
    float[] v = new float[64];
    for (int i = 0; i < v.length; i++) {
      v[i] = scale * (float) Math.sin(0.37 * i + 0.1);
    }
    return v;
  }

  private static float[] fp16(float[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Half.round(v[i]);
    }
    return out;
  }

  @Test
  void subnormalReferenceIsJudgedByAbsoluteErrorAgainstItsRange() {
    float[] ref = ramp(2e-6f);
    float[] cand = fp16(ref); // FP16 subnormal spacing 6e-8 is ~3% of these values
    ErrorStats s = ErrorMetrics.compare(ref, cand);
    assertThat(s.normalizedError()).isGreaterThan(Tolerance.DEFAULT_MAX_NORMALIZED_ERROR);
    assertThat(Tolerance.isNearZero(s)).isTrue();
    Verdict v = Tolerance.fp16Default().check("y", s);
    assertThat(v.pass()).isTrue();
    assertThat(v.nearZeroReference()).isTrue();
    assertThat(v.check()).isEqualTo(Verdict.NEAR_ZERO_CHECK);
    assertThat(v.reason()).contains("not meaningful").contains("y: reference is ~0");
    assertThat(v.limit()).isEqualTo(Tolerance.nearZeroLimit(s.refMaxAbs()));
  }

  @Test
  void nearZeroReferenceStillFailsWhenTheErrorIsAsLargeAsTheOutput() {
    float[] ref = ramp(1.4e-5f);
    float[] cand = ramp(-1.4e-5f); // wrong sign everywhere: error twice the range
    Verdict v = Tolerance.fp16Default().check("y", ErrorMetrics.compare(ref, cand));
    assertThat(v.pass()).isFalse();
    assertThat(v.nearZeroReference()).isTrue();
  }

  @Test
  void normalReferenceKeepsTheNormalizedCheck() {
    float[] ref = ramp(1e-3f);
    Verdict v = Tolerance.fp16Default().check("y", ErrorMetrics.compare(ref, fp16(ref)));
    assertThat(v.check()).isEqualTo("normalized");
    assertThat(v.nearZeroReference()).isFalse();
  }

  @Test
  void allZeroReferenceUsesTheFloor() {
    float[] ref = new float[8];
    float[] cand = new float[8];
    cand[3] = (float) Tolerance.NEAR_ZERO_ABS_FLOOR;
    ErrorStats s = ErrorMetrics.compare(ref, cand);
    assertThat(s.normalizedError()).isInfinite();
    assertThat(Tolerance.fp16Default().check("z", s).pass()).isTrue();
    cand[3] = 1e-3f;
    assertThat(Tolerance.fp16Default().check("z", ErrorMetrics.compare(ref, cand)).pass())
        .isFalse();
  }

  @Test
  void elementwiseModeIgnoresTheFallback() {
    float[] ref = ramp(2e-6f);
    Verdict v =
        Tolerance.elementwise(0, 1e-3)
            .check("y", ErrorMetrics.compare(ref, fp16(ref)), ref, fp16(ref));
    assertThat(v.nearZeroReference()).isFalse();
  }

  @Test
  void candidateSaturatedAtFp16MaxWhereTheReferenceIsBeyondItCountsAsEqual() {
    float[] ref = {0f, -3.4028235e38f, -3.4028235e38f, 1f};
    float[] cand = {0f, -65504f, -65504f, 1f};
    ErrorStats s = ErrorMetrics.compare(ref, cand);
    assertThat(s.maxAbs()).isZero();
    assertThat(s.normalizedError()).isZero();
    assertThat(s.refCountAboveFp16Max()).isEqualTo(2);
    assertThat(s.nonFiniteWhereRefFinite()).isZero();
    // an overflow to inf, or the wrong sign, is not a saturation
    assertThat(
            ErrorMetrics.compare(ref, new float[] {0f, Float.NEGATIVE_INFINITY, -65504f, 1f})
                .nonFiniteWhereRefFinite())
        .isEqualTo(1);
    assertThat(ErrorMetrics.compare(ref, new float[] {0f, 65504f, -65504f, 1f}).maxAbs())
        .isGreaterThan(1e38);
    // below 65520 FP16 rounds to 65504 legitimately: a normal error
    assertThat(ErrorMetrics.compare(new float[] {65510f}, new float[] {65504f}).maxAbs())
        .isEqualTo(6.0);
  }
}
