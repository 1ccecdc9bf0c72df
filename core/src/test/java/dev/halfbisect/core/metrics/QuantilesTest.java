package dev.halfbisect.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantilesTest {

  @Test
  void matchesSortOnManyShapesOfData() {
    SplittableRandom rnd = new SplittableRandom(3);
    double[] qs = {0, 0.25, 0.5, 0.9, 0.95, 0.99, 1};
    for (int n = 1; n < 200; n++) {
      for (int kind = 0; kind < 6; kind++) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
          switch (kind) {
            case 0:
              a[i] = (float) rnd.nextDouble();
              break;
            case 1:
              a[i] = i;
              break; // sorted
            case 2:
              a[i] = n - i;
              break; // reversed
            case 3:
              a[i] = 5;
              break; // all equal
            case 4:
              a[i] = rnd.nextInt(3);
              break; // many duplicates
            default:
              a[i] = Math.min(i, n - i);
              break; // organ pipe
          }
        }
        float[] sorted = a.clone();
        Arrays.sort(sorted);
        double[] got = Quantiles.of(a.clone(), n, qs);
        for (int k = 0; k < qs.length; k++) {
          double pos = qs[k] * (n - 1);
          int lo = (int) Math.floor(pos);
          int hi = Math.min(lo + 1, n - 1);
          double expected = sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
          assertThat(got[k])
              .as("n=%d kind=%d q=%s", n, kind, qs[k])
              .isCloseTo(expected, org.assertj.core.api.Assertions.within(1e-6));
        }
      }
    }
  }

  @Test
  void handlesInfinityAndEmptyRanges() {
    assertThat(Quantiles.of(new float[] {0, Float.POSITIVE_INFINITY}, 2, 0.5)[0]).isInfinite();
    assertThat(
            Quantiles.of(new float[] {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY}, 2, 0.5)[0])
        .isInfinite();
    assertThat(Quantiles.of(new float[] {3, 1, 2}, 0, 0.5)[0]).isZero();
    assertThat(Quantiles.of(new float[] {3, 1, 2, 99}, 3, 0.5, 1))
        .containsExactly(2, 3); // only the first 3
    assertThatThrownBy(() -> Quantiles.of(new float[] {1}, 1, 0.9, 0.5))
        .hasMessageContaining("ascending");
    assertThatThrownBy(() -> Quantiles.of(new float[] {1}, 1, 1.5)).hasMessageContaining("outside");
  }

  @Test
  void selectOnLargeAdversarialInputStaysCorrect() {
    int n = 1 << 16;
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (i % 2 == 0) ? i : n - i; // interleaved ramps
    }
    float[] sorted = a.clone();
    Arrays.sort(sorted);
    for (int k : new int[] {0, 1, n / 2, n - 2, n - 1}) {
      float[] b = a.clone();
      Quantiles.select(b, 0, n - 1, k);
      assertThat(b[k]).isEqualTo(sorted[k]);
      for (int i = 0; i < k; i++) {
        assertThat(b[i] <= b[k]).isTrue();
      }
    }
  }
}
