package dev.halfbisect.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RankHistogramTest {

  @Test
  void findsEveryRankExactlyAmongDuplicatesSubnormalsAndInfinity() {
    SplittableRandom rnd = new SplittableRandom(11);
    for (int n : new int[] {1, 2, 5, 100, 10_000}) {
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        switch (rnd.nextInt(5)) {
          case 0:
            v[i] = 0;
            break;
          case 1:
            v[i] = Float.intBitsToFloat(rnd.nextInt(1, 0x800000));
            break; // subnormal
          case 2:
            v[i] = rnd.nextInt(3);
            break; // few distinct values
          case 3:
            v[i] = rnd.nextInt(100) == 0 ? Float.POSITIVE_INFINITY : Float.MAX_VALUE;
            break;
          default:
            v[i] = (float) rnd.nextDouble();
            break;
        }
      }
      float[] sorted = v.clone();
      Arrays.sort(sorted);
      long[] ranks = {0, n / 3, n / 2, n - 1, (long) (n * 0.99)};
      RankHistogram h = new RankHistogram();
      for (float x : v) {
        h.add(Float.floatToRawIntBits(x));
      }
      h.prepare(ranks);
      for (float x : v) {
        h.refine(Float.floatToRawIntBits(x));
      }
      for (int r = 0; r < ranks.length; r++) {
        assertThat(h.value(r)).as("n=%d rank %d", n, ranks[r]).isEqualTo(sorted[(int) ranks[r]]);
      }
    }
  }
}
