package dev.halfbisect.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ErrorMetricsTest {
  private static final float INF = Float.POSITIVE_INFINITY;
  private static final double EPS = ErrorMetrics.REL_EPS;

  @Test
  void smallArrayByHand() {
    // r = [1, 2, 4, 8], c = [1.5, 2, 3, 8.25]
    // c - r = [0.5, 0, -1, 0.25]; |c - r| sorted = [0, 0.25, 0.5, 1]
    // max 1, mean 1.75 / 4 = 0.4375, median (0.25 + 0.5) / 2 = 0.375
    // p90: position 0.9 * 3 = 2.7 -> 0.5 + 0.7 * (1 - 0.5) = 0.85; p95: 2.85 -> 0.925; p99: 2.97 ->
    // 0.985
    // rel = [0.5/(1+eps), 0, 1/(4+eps), 0.25/(8+eps)] ~ [0.5, 0, 0.25, 0.03125]
    //   max ~0.5, mean ~0.78125 / 4, median (0.03125 + 0.25) / 2 = 0.140625, two above 10% -> 0.5
    // ||c-r||^2 = 0.25 + 0 + 1 + 0.0625 = 1.3125; ||r||^2 = 1 + 4 + 16 + 64 = 85
    // normalized sqrt(1.3125 / 85) = 0.12426; SNR 10 log10(85 / 1.3125) = 18.113 dB
    // r.c = 1.5 + 4 + 12 + 66 = 83.5; ||c||^2 = 2.25 + 4 + 9 + 68.0625 = 83.3125
    // cosine 83.5 / sqrt(85 * 83.3125) = 0.992252
    ErrorStats s = ErrorMetrics.compare(new float[] {1, 2, 4, 8}, new float[] {1.5f, 2, 3, 8.25f});
    assertThat(s.elements()).isEqualTo(4);
    assertThat(s.samples()).isEqualTo(1);
    assertThat(s.maxAbs()).isEqualTo(1.0);
    assertThat(s.meanAbs()).isEqualTo(0.4375);
    assertThat(s.medianAbs()).isEqualTo(0.375);
    assertThat(s.p90Abs()).isCloseTo(0.85, within(1e-12));
    assertThat(s.p95Abs()).isCloseTo(0.925, within(1e-12));
    assertThat(s.p99Abs()).isCloseTo(0.985, within(1e-12));
    assertThat(s.maxRel()).isCloseTo(0.5 / (1 + EPS), within(1e-7));
    assertThat(s.meanRel())
        .isCloseTo((0.5 / (1 + EPS) + 1 / (4 + EPS) + 0.25 / (8 + EPS)) / 4, within(1e-7));
    assertThat(s.medianRel()).isCloseTo(0.140625, within(1e-6));
    assertThat(s.fractionRelOver10pct()).isEqualTo(0.5);
    assertThat(s.normalizedError())
        .isCloseTo(Math.sqrt(1.3125 / 85), within(1e-12))
        .isCloseTo(0.12426, within(1e-5));
    assertThat(s.snrDb()).isCloseTo(18.1131, within(1e-4));
    assertThat(s.cosine()).isCloseTo(0.992252, within(1e-6));
    assertThat(s.refMaxAbs()).isEqualTo(8.0);
    assertThat(s.refNanCount() + s.refInfCount() + s.candNanCount() + s.candInfCount()).isZero();
    assertThat(s.nonFiniteWhereRefFinite()).isZero();
    assertThat(s.candidateFiniteWhereReferenceFinite()).isTrue();
    assertThat(
            s.refCountAboveFp16Max()
                + s.refCountBelowFp16MinNormal()
                + s.refCountBelowFp16MinSubnormal())
        .isZero();
  }

  @Test
  void nanAndInfinity() {
    // pairs: agree, agree (NaN), agree (+inf), disagree (finite ref, inf cand), 4 equal finite
    // pairs
    float[] r = {1, Float.NaN, INF, 2, 70000, 1e-5f, 1e-8f, 0};
    float[] c = {1, Float.NaN, INF, INF, 70000, 1e-5f, 1e-8f, 0};
    ErrorStats s = ErrorMetrics.compare(r, c);
    assertThat(s.refNanCount()).isEqualTo(1);
    assertThat(s.refInfCount()).isEqualTo(1);
    assertThat(s.candNanCount()).isEqualTo(1);
    assertThat(s.candInfCount()).isEqualTo(2);
    assertThat(s.nonFiniteWhereRefFinite()).isEqualTo(1);
    assertThat(s.candidateFiniteWhereReferenceFinite()).isFalse();
    assertThat(s.maxAbs()).isInfinite();
    assertThat(s.meanAbs()).isInfinite();
    assertThat(s.medianAbs()).isZero(); // seven zeros and one inf
    assertThat(s.p99Abs()).isInfinite();
    assertThat(s.normalizedError()).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(s.snrDb()).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(s.cosine()).isEqualTo(1.0); // over the finite pairs, all equal
    assertThat(s.fractionRelOver10pct()).isEqualTo(1.0 / 8);
    // reference range over finite values: 70000 > 65504; 1e-5 and 1e-8 < 2^-14; 1e-8 < 2^-24
    assertThat(s.refMaxAbs()).isEqualTo(70000.0);
    assertThat(s.refCountAboveFp16Max()).isEqualTo(1);
    assertThat(s.refCountBelowFp16MinNormal()).isEqualTo(2);
    assertThat(s.refCountBelowFp16MinSubnormal()).isEqualTo(1);

    // agreeing non-finite pairs alone do not make an error
    ErrorStats ok =
        ErrorMetrics.compare(new float[] {Float.NaN, -INF, 3}, new float[] {Float.NaN, -INF, 3});
    assertThat(ok.maxAbs()).isZero();
    assertThat(ok.normalizedError()).isZero();
    assertThat(ok.snrDb()).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(ok.nonFiniteWhereRefFinite()).isZero();
    // +inf against -inf and NaN against a number disagree, but the reference was not finite there
    ErrorStats bad = ErrorMetrics.compare(new float[] {INF, Float.NaN}, new float[] {-INF, 0});
    assertThat(bad.nonFiniteWhereRefFinite()).isZero();
    assertThat(bad.maxAbs()).isInfinite();
    assertThat(bad.normalizedError()).isInfinite();
  }

  @Test
  void zeroNormConventions() {
    ErrorStats same = ErrorMetrics.compare(new float[] {0, 0}, new float[] {0, -0f});
    assertThat(same.normalizedError()).isZero(); // 0 / 0 = 0
    assertThat(same.cosine()).isEqualTo(1.0);
    assertThat(same.snrDb()).isEqualTo(Double.POSITIVE_INFINITY);
    ErrorStats fromZero = ErrorMetrics.compare(new float[] {0, 0}, new float[] {0, 1});
    assertThat(fromZero.normalizedError()).isEqualTo(Double.POSITIVE_INFINITY); // x / 0 = inf
    assertThat(fromZero.cosine()).isZero();
    assertThat(fromZero.snrDb()).isEqualTo(Double.NEGATIVE_INFINITY);
    // relative error at r = 0 uses eps: 1 / 1e-6
    assertThat(fromZero.maxRel()).isCloseTo(1e6, within(1e-3));
    ErrorStats empty = ErrorMetrics.compare(new float[0], new float[0]);
    assertThat(empty.elements()).isZero();
    assertThat(empty.maxAbs()).isZero();
    assertThat(empty.normalizedError()).isZero();
    assertThat(empty.fractionRelOver10pct()).isZero();
    ErrorStats opposite = ErrorMetrics.compare(new float[] {1, 2}, new float[] {-1, -2});
    assertThat(opposite.cosine()).isCloseTo(-1.0, within(1e-15));
    assertThat(opposite.normalizedError()).isEqualTo(2.0);
  }

  @Test
  void fp16RoundingOfARealisticTensorHasTheExpectedSize() {
    SplittableRandom rnd = new SplittableRandom(1);
    float[] r = new float[100_000];
    for (int i = 0; i < r.length; i++) {
      r[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    float[] c = r.clone();
    Half.roundInPlace(c);
    ErrorStats s = ErrorMetrics.compare(r, c);
    // FP16 rounding of values in [-1, 1): max error half an ulp of [0.5, 1) = 2^-12
    assertThat(s.maxAbs()).isLessThanOrEqualTo(0x1p-12);
    // relative error is at most 2^-11 for normal FP16 values; tiny values (FP16 subnormals) do
    // worse
    assertThat(s.medianRel()).isLessThanOrEqualTo(0x1p-11);
    assertThat(s.maxRel()).isGreaterThan(0x1p-11);
    assertThat(s.normalizedError()).isBetween(1e-4, 4e-4);
    assertThat(s.cosine()).isGreaterThan(0.9999999);
    assertThat(s.snrDb()).isBetween(65.0, 80.0);
  }

  @Test
  void matchesSortBasedComputationOnRandomData() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int n : new int[] {1, 2, 3, 10, 101, 1000, 4097}) {
      float[] r = new float[n];
      float[] c = new float[n];
      for (int i = 0; i < n; i++) {
        r[i] = (float) rnd.nextGaussian();
        c[i] = rnd.nextInt(4) == 0 ? r[i] : r[i] + (float) (rnd.nextGaussian() * 0.01);
      }
      ErrorStats s = ErrorMetrics.compare(r, c);
      double[] abs = new double[n];
      double[] rel = new double[n];
      double sum = 0;
      for (int i = 0; i < n; i++) {
        abs[i] = Math.abs((double) c[i] - r[i]);
        rel[i] = abs[i] / (Math.abs((double) r[i]) + EPS);
        sum += abs[i];
      }
      Arrays.sort(abs);
      Arrays.sort(rel);
      assertThat(s.maxAbs()).isEqualTo(abs[n - 1]);
      assertThat(s.meanAbs()).isCloseTo(sum / n, within(1e-12));
      assertThat(s.medianAbs()).isCloseTo(numpyQuantile(abs, 0.5), within(1e-7));
      assertThat(s.p90Abs()).isCloseTo(numpyQuantile(abs, 0.9), within(1e-7));
      assertThat(s.p95Abs()).isCloseTo(numpyQuantile(abs, 0.95), within(1e-7));
      assertThat(s.p99Abs()).isCloseTo(numpyQuantile(abs, 0.99), within(1e-7));
      assertThat(s.medianRel())
          .isCloseTo(numpyQuantile(rel, 0.5), within(1e-5 * (1 + numpyQuantile(rel, 0.5))));
    }
  }

  static double numpyQuantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  @Test
  void tensorsMustHaveTheSameShape() {
    Tensor a = Tensor.ofFloats(new long[] {2, 3}, new float[6]);
    Tensor b = Tensor.ofFloats(new long[] {3, 2}, new float[6]);
    assertThatThrownBy(() -> ErrorMetrics.compare(a, b))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2x3")
        .hasMessageContaining("3x2");
    assertThatThrownBy(() -> ErrorMetrics.compare(new float[2], new float[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2")
        .hasMessageContaining("3");
    // a float16 candidate against a float32 reference of the same shape
    Tensor ref = Tensor.ofFloats(new long[] {2}, 1f, 0.1f);
    Tensor cand =
        Tensor.fromFloats(
            dev.halfbisect.core.DType.FLOAT16, new long[] {2}, new float[] {1f, 0.1f});
    ErrorStats s = ErrorMetrics.compare(ref, cand);
    assertThat(s.maxAbs()).isEqualTo(Math.abs(0.0999755859375 - (double) 0.1f));
  }

  @Test
  void worstOfTakesTheWorstOfEachStatistic() {
    ErrorStats a = ErrorMetrics.compare(new float[] {1, 2, 4, 8}, new float[] {1.5f, 2, 3, 8.25f});
    ErrorStats b =
        ErrorMetrics.compare(new float[] {1, 70000, 1e-9f}, new float[] {1, 70000.5f, 0});
    ErrorStats w = ErrorStats.worstOf(List.of(a, b));
    assertThat(w.samples()).isEqualTo(2);
    assertThat(w.elements()).isEqualTo(4);
    assertThat(w.maxAbs()).isEqualTo(1.0); // a
    assertThat(w.normalizedError()).isEqualTo(a.normalizedError());
    assertThat(w.cosine()).isEqualTo(Math.min(a.cosine(), b.cosine()));
    assertThat(w.snrDb()).isEqualTo(Math.min(a.snrDb(), b.snrDb()));
    assertThat(w.refMaxAbs()).isEqualTo(70000.0); // b
    assertThat(w.refCountAboveFp16Max()).isEqualTo(1);
    assertThat(w.refCountBelowFp16MinSubnormal()).isEqualTo(1);
    assertThat(w.maxRel()).isEqualTo(Math.max(a.maxRel(), b.maxRel()));
    assertThat(ErrorStats.worstOf(List.of(a))).isEqualTo(a);
    // the same over tensors, per sample
    Tensor r1 = Tensor.ofFloats(new long[] {4}, 1, 2, 4, 8);
    Tensor c1 = Tensor.ofFloats(new long[] {4}, 1.5f, 2, 3, 8.25f);
    Tensor r2 = Tensor.ofFloats(new long[] {4}, 1, 2, 4, 8);
    ErrorStats ws = ErrorMetrics.compareSamples(List.of(r1, r2), List.of(c1, r2));
    assertThat(ws.samples()).isEqualTo(2);
    assertThat(ws.maxAbs()).isEqualTo(1.0);
    assertThat(ws.normalizedError()).isEqualTo(a.normalizedError());
    assertThatThrownBy(
            () ->
                ErrorMetrics.compareSamples(
                    List.of(r1, r2), List.of(c1, Tensor.ofFloats(new long[] {2, 2}, 1, 2, 4, 8))))
        .hasMessageContaining("sample 1")
        .hasMessageContaining("2x2");
    assertThatThrownBy(() -> ErrorMetrics.compareSamples(List.of(r1), List.of()))
        .hasMessageContaining("1 reference samples");
    assertThatThrownBy(() -> ErrorStats.worstOf(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
