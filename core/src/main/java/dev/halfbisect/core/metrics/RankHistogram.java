package dev.halfbisect.core.metrics;

/**
 * Exact order statistics of non-negative floats by two-level radix selection. The bits of a
 * non-negative float (including +inf) order like the float itself, so the k-th smallest value is
 * found by counting the high 16 bits of every value (one histogram, filled during the caller's main
 * pass), locating the bucket that holds rank k, then counting the low 16 bits of just the values in
 * those buckets (a second pass). Two predictable passes and no reordering or copy of the data,
 * unlike quickselect, whose data-dependent branches dominate at 16M elements.
 */
final class RankHistogram {
  private static final int BUCKETS = 1 << 16;

  private final int[] high = new int[BUCKETS];
  private long[] ranks;
  private int[] rankBucket;
  private int[] rankResidual;

  /** bucket -> index into {@link #low}, or -1 when no wanted rank falls in it. */
  private int[] slotOfBucket;

  private int[][] low;

  /** Counts one value; {@code bits} are the raw bits of a non-negative float. */
  void add(int bits) {
    high[bits >>> 16]++;
  }

  /**
   * Declares the ranks (0-based, ascending not required) whose values {@link #value} will return,
   * and prepares the second pass. {@code n} is the number of values added.
   */
  void prepare(long[] wanted) {
    ranks = wanted.clone();
    rankBucket = new int[ranks.length];
    rankResidual = new int[ranks.length];
    slotOfBucket = new int[BUCKETS];
    java.util.Arrays.fill(slotOfBucket, -1);
    int slots = 0;
    int[] slotBuckets = new int[ranks.length];
    for (int r = 0; r < ranks.length; r++) {
      long before = 0;
      int b = 0;
      while (before + high[b] <= ranks[r]) {
        before += high[b];
        b++;
      }
      rankBucket[r] = b;
      rankResidual[r] = (int) (ranks[r] - before);
      if (slotOfBucket[b] < 0) {
        slotOfBucket[b] = slots;
        slotBuckets[slots++] = b;
      }
    }
    low = new int[slots][BUCKETS];
  }

  /** Second pass: counts the low bits of a value if its bucket holds a wanted rank. */
  void refine(int bits) {
    int slot = slotOfBucket[bits >>> 16];
    if (slot >= 0) {
      low[slot][bits & 0xffff]++;
    }
  }

  /** Whether a second pass is needed at all (false when no rank was declared). */
  boolean needsRefinement() {
    return low != null && low.length > 0;
  }

  /** The value of the {@code i}-th declared rank, after the second pass. */
  float value(int i) {
    int b = rankBucket[i];
    int[] counts = low[slotOfBucket[b]];
    int residual = rankResidual[i];
    int seen = 0;
    int l = 0;
    while (seen + counts[l] <= residual) {
      seen += counts[l];
      l++;
    }
    return Float.intBitsToFloat(b << 16 | l);
  }
}
