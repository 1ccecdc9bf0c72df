package dev.halfbisect.core.metrics;

import com.google.common.base.Preconditions;
import java.util.Arrays;

/**
 * Order statistics in O(n) by selection (quickselect with a median-of-three pivot, falling back to
 * a sort of the remaining range when partitioning degenerates), never a full sort per statistic.
 * Quantiles use linear interpolation between the two closest ranks, NumPy's default method: {@code
 * q} maps to position {@code q * (n - 1)}.
 */
public final class Quantiles {
  private Quantiles() {}

  /**
   * The quantiles {@code qs} (each in [0, 1], ascending) of {@code a[0..length)}. Reorders that
   * range of {@code a}. The values must not be NaN. Returns 0 for every quantile of an empty range.
   */
  public static double[] of(float[] a, int length, double... qs) {
    Preconditions.checkArgument(
        length >= 0 && length <= a.length, "length %s outside array of %s", length, a.length);
    double[] out = new double[qs.length];
    if (length == 0) {
      return out;
    }
    // Selections go in ascending rank order; each one leaves everything above its rank to the
    // right, so the next selection only needs to look at that right part.
    int from = 0;
    double previous = 0;
    for (int i = 0; i < qs.length; i++) {
      double q = qs[i];
      Preconditions.checkArgument(q >= 0 && q <= 1, "quantile %s outside [0, 1]", q);
      Preconditions.checkArgument(
          q >= previous, "quantiles must be ascending: %s", Arrays.toString(qs));
      previous = q;
      double pos = q * (length - 1);
      int lo = (int) Math.floor(pos);
      double frac = pos - lo;
      if (lo >= from) {
        select(a, from, length - 1, lo);
        from = lo;
      }
      double low = a[lo];
      if (frac == 0 || lo + 1 >= length) {
        out[i] = low;
        continue;
      }
      // after selecting lo, the next rank is the minimum of everything to its right
      float high = Float.POSITIVE_INFINITY;
      for (int j = lo + 1; j < length; j++) {
        if (a[j] < high) {
          high = a[j];
        }
      }
      out[i] = low == high ? low : low + frac * (high - low);
    }
    return out;
  }

  /**
   * Moves the element of rank {@code k} to index {@code k} within {@code a[lo..hi]} (inclusive),
   * with everything before it {@code <=} and everything after it {@code >=}.
   */
  static void select(float[] a, int lo, int hi, int k) {
    int budget = 2 * (32 - Integer.numberOfLeadingZeros(hi - lo + 1)) + 8;
    while (hi > lo) {
      if (--budget < 0) {
        Arrays.sort(a, lo, hi + 1); // adversarial input: O(n log n) guarantee
        return;
      }
      int mid = (lo + hi) >>> 1;
      // median of three as pivot
      float x = a[lo];
      float y = a[mid];
      float z = a[hi];
      float pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] < pivot) {
          i++;
        }
        while (pivot < a[j]) {
          j--;
        }
        if (i <= j) {
          float t = a[i];
          a[i] = a[j];
          a[j] = t;
          i++;
          j--;
        }
      }
      // a[lo..j] <= pivot, a[i..hi] >= pivot, anything between equals pivot
      if (k <= j) {
        hi = j;
      } else if (k >= i) {
        lo = i;
      } else {
        return;
      }
    }
  }
}
