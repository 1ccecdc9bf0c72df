package dev.halfbisect.core.verdict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.halfbisect.core.Half;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ToleranceTest {
  // r = [1, 2, 4, 8], c = [1.5, 2, 3, 8.25]: |c - r| = [0.5, 0, 1, 0.25]
  // normalized error sqrt(1.3125 / 85) = 0.12426, max abs 1, mean abs 0.4375, median abs 0.375,
  // rel ~ [0.5, 0, 0.25, 0.03125]: max rel ~0.5, mean rel ~0.1953, median rel 0.140625
  private static final float[] R = {1, 2, 4, 8};
  private static final float[] C = {1.5f, 2, 3, 8.25f};
  private static final ErrorStats S = ErrorMetrics.compare(R, C);

  @Test
  void defaultChecksNormalizedError() {
    Verdict v = Tolerance.fp16Default().check("out", S);
    assertThat(v.pass()).isFalse();
    assertThat(v.word()).isEqualTo("fail");
    assertThat(v.check()).isEqualTo("normalized");
    assertThat(v.observed()).isCloseTo(0.12426, within(1e-5));
    assertThat(v.limit()).isEqualTo(1e-2);
    assertThat(v.neededToleranceName()).isEqualTo("normalizedError");
    assertThat(v.neededTolerance()).isEqualTo(S.normalizedError());
    assertThat(v.reason()).isEqualTo("out: normalized error 0.124 > limit 0.0100");
    assertThat(Tolerance.normalized(0.13).check("out", S).pass()).isTrue();
    assertThat(Tolerance.normalized(v.neededTolerance()).check("out", S).pass()).isTrue();
  }

  @Test
  void healthyFp16PassesTheDefaultButNotPolygraphyDefaults() {
    SplittableRandom rnd = new SplittableRandom(5);
    float[] r = new float[10_000];
    for (int i = 0; i < r.length; i++) {
      r[i] = (float) rnd.nextGaussian();
    }
    float[] c = r.clone();
    Half.roundInPlace(c);
    ErrorStats s = ErrorMetrics.compare(r, c);
    assertThat(Tolerance.fp16Default().check("emb", s, r, c).pass()).isTrue();
    Verdict strict = Tolerance.elementwise(1e-5, 1e-5).check("emb", s, r, c);
    assertThat(strict.pass()).isFalse();
    assertThat(Tolerance.elementwise(strict.neededTolerance(), 1e-5).check("emb", s, r, c).pass())
        .isTrue();
  }

  @Test
  void elementwiseIsAllcloseForm() {
    // atol 0.5, rtol 0.1: limits 0.6, 0.7, 0.9, 1.3 against errors 0.5, 0, 1, 0.25 -> index 2 fails
    Verdict v = Tolerance.elementwise(0.5, 0.1).check("y", S, R, C);
    assertThat(v.pass()).isFalse();
    assertThat(v.observed()).isEqualTo(1); // failing elements
    assertThat(v.reason())
        .contains("1 of 4 element(s)", "index 2", "reference 4.0", "candidate 3.0");
    // the smallest atol at rtol 0.1: max(0.5 - 0.1, 0 - 0.2, 1 - 0.4, 0.25 - 0.8) = 0.6
    assertThat(v.neededToleranceName()).isEqualTo("atol");
    assertThat(v.neededTolerance()).isCloseTo(0.6, within(1e-12));
    assertThat(Tolerance.elementwise(v.neededTolerance(), 0.1).check("y", S, R, C).pass()).isTrue();
    assertThat(Tolerance.elementwise(0.59, 0.1).check("y", S, R, C).pass()).isFalse();
    // agreeing NaN/Inf pairs pass elementwise
    float[] r = {Float.NaN, Float.NEGATIVE_INFINITY, 1};
    assertThat(
            Tolerance.elementwise(0, 0)
                .check("z", ErrorMetrics.compare(r, r.clone()), r, r.clone())
                .pass())
        .isTrue();
    assertThatThrownBy(() -> Tolerance.elementwise(0, 0).check("z", S))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("z")
        .hasMessageContaining("reference");
  }

  @Test
  void statisticModesFailOnlyWhenBothAbsoluteAndRelativeExceed() {
    // max: abs 1 > 0.5 and rel ~0.5 > 0.4 -> fail; needs atol 1
    Verdict max = Tolerance.of(CheckMode.MAX, 0.5, 0.4).check("y", S);
    assertThat(max.pass()).isFalse();
    assertThat(max.check()).isEqualTo("max");
    assertThat(max.neededTolerance()).isEqualTo(1.0);
    assertThat(max.reason())
        .isEqualTo(
            "y: max absolute error 1.00 > atol 0.500, max relative error 0.500 > rtol 0.400");
    assertThat(Tolerance.of(CheckMode.MAX, 0.5, 0.6).check("y", S).pass()).isTrue(); // rel within
    assertThat(Tolerance.of(CheckMode.MAX, 1.0, 0).check("y", S).pass()).isTrue(); // abs within
    // mean abs 0.4375
    assertThat(Tolerance.of(CheckMode.MEAN, 0.44, 0).check("y", S).pass()).isTrue();
    assertThat(Tolerance.of(CheckMode.MEAN, 0.43, 0.19).check("y", S).pass()).isFalse();
    assertThat(Tolerance.of(CheckMode.MEAN, 0.43, 0.2).check("y", S).pass())
        .isTrue(); // mean rel 0.1953
    // median abs 0.375, median rel 0.140625
    Verdict median = Tolerance.of(CheckMode.MEDIAN, 0.3, 0.1).check("y", S);
    assertThat(median.pass()).isFalse();
    assertThat(median.observed()).isEqualTo(0.375);
    assertThat(Tolerance.of(CheckMode.MEDIAN, 0.3, 0.15).check("y", S).pass()).isTrue();
    // quantile 0.5 is the median; quantile 1 is the max
    Verdict q = Tolerance.of(CheckMode.quantile(0.5), 0.3, 0.1).check("y", S, R, C);
    assertThat(q.pass()).isFalse();
    assertThat(q.observed()).isEqualTo(0.375);
    assertThat(q.check()).isEqualTo("quantile:0.5");
    assertThat(Tolerance.of(CheckMode.quantile(1), 0.99, 0.4).check("y", S, R, C).pass()).isFalse();
    assertThat(Tolerance.of(CheckMode.quantile(1), 1.0, 0.4).check("y", S, R, C).pass()).isTrue();
  }

  @Test
  void nonFiniteCandidateFailsEveryMode() {
    float[] r = {1, 2};
    float[] c = {1, Float.POSITIVE_INFINITY};
    ErrorStats s = ErrorMetrics.compare(r, c);
    for (Tolerance t :
        new Tolerance[] {
          Tolerance.fp16Default(),
          Tolerance.normalized(1e9),
          Tolerance.elementwise(1e9, 1e9),
          Tolerance.of(CheckMode.MEDIAN, 1e9, 1e9)
        }) {
      Verdict v = t.check("o", s, r, c);
      assertThat(v.pass()).as("%s", t).isFalse();
      assertThat(v.check()).isEqualTo("finite");
      assertThat(v.neededTolerance()).isInfinite();
      assertThat(v.reason()).contains("o:", "1 element(s)", "Inf 1");
    }
  }

  @Test
  void overridesApplyByTensorName() {
    Tolerance t = Tolerance.fp16Default().withOverride("logits", Tolerance.elementwise(2, 0));
    assertThat(t.check("logits", S, R, C).pass()).isTrue();
    assertThat(t.check("hidden", S, R, C).pass()).isFalse();
    assertThat(t.forTensor("logits")).isEqualTo(Tolerance.elementwise(2, 0));
    assertThat(t.forTensor("hidden")).isEqualTo(Tolerance.fp16Default());
    assertThat(t.needsElements("logits")).isTrue();
    assertThat(t.needsElements("hidden")).isFalse();
    Tolerance replaced = t.withOverride("logits", Tolerance.normalized(0.5));
    assertThat(replaced.overrides()).hasSize(1);
    assertThat(replaced.check("logits", S).pass()).isTrue();
  }

  @Test
  void parsesCliText() {
    assertThat(Tolerance.parse("")).isEqualTo(Tolerance.fp16Default());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Tolerance.parse(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tolerance spec is null");
    assertThat(Tolerance.parse("normalized=0.05")).isEqualTo(Tolerance.normalized(0.05));
    assertThat(Tolerance.parse("atol=1e-3")).isEqualTo(Tolerance.elementwise(1e-3, 1e-5));
    assertThat(Tolerance.parse("mode=max, atol=1e-2, rtol=1e-3"))
        .isEqualTo(Tolerance.of(CheckMode.MAX, 1e-2, 1e-3));
    assertThat(Tolerance.parse("mode=quantile:0.99,atol=0.1").mode())
        .isEqualTo(CheckMode.quantile(0.99));
    assertThat(CheckMode.parse("elemwise")).isEqualTo(CheckMode.ELEMENTWISE);
    assertThatThrownBy(() -> Tolerance.parse("mode=foo"))
        .hasMessageContaining("'foo'")
        .hasMessageContaining("quantile:Q");
    assertThatThrownBy(() -> Tolerance.parse("atol=-1")).hasMessageContaining("atol '-1'");
    assertThatThrownBy(() -> Tolerance.parse("atol=abc")).hasMessageContaining("atol 'abc'");
    assertThatThrownBy(() -> Tolerance.parse("bogus=1"))
        .hasMessageContaining("unknown key 'bogus'");
    assertThatThrownBy(() -> Tolerance.parse("atol"))
        .hasMessageContaining("'atol' is not key=value");
    assertThatThrownBy(() -> CheckMode.parse("quantile:x")).hasMessageContaining("'x'");
    assertThatThrownBy(() -> CheckMode.quantile(1.5)).hasMessageContaining("outside");
  }
}
