package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * FP16 headroom of reference values (issue 15): a tensor whose largest finite reference magnitude
 * reaches a share of FP16's largest finite value (65504) is at risk, even when it passes on these
 * samples (another input may push it over; the layer-0 Pow of a BERT reached 67% on uniform token
 * ids and overflowed on sequences that start with [CLS]). The extreme is located (sample and
 * element index) so that a user can tell which token or channel drives it. Magnitudes of {@link
 * #FILL_SENTINEL} or more (attention-mask fills) are not counted.
 */
public final class Headroom {
  /** FP16's largest finite value. */
  public static final double FP16_MAX = 65504;

  /**
   * Magnitudes from here on are fill values (attention masks use -3.4e38 or -FLT_MAX to mark masked
   * positions, and what they flow into), not values a computation grows to: the scan skips them, as
   * TensorRT and the emulation clamp such constants.
   */
  public static final double FILL_SENTINEL = 1e30;

  /**
   * The node and op type an {@link Extreme} of a graph input carries: no node produces it, and its
   * values are the samples' (an input beyond 65504 overflows the first FP16 layer reading it).
   */
  public static final String INPUT_NODE = "graph input";

  public static final String INPUT_OP_TYPE = "Input";

  /** Whether a headroom row's node and op type are those of a graph input ({@link #INPUT_NODE}). */
  public static boolean isGraphInput(String node, String opType) {
    return INPUT_OP_TYPE.equals(opType) && INPUT_NODE.equals(node);
  }

  /** Default share of {@link #FP16_MAX} from which a tensor is at risk. */
  public static final double DEFAULT_SHARE = 0.5;

  private Headroom() {}

  /**
   * The largest finite reference magnitude of one tensor over the samples and where it is.
   *
   * @param tensor ONNX tensor name
   * @param node producing node
   * @param opType its op type
   * @param maxAbs largest finite |reference|
   * @param sample index of the sample that came closest to the bound
   * @param index the element's multi-dimensional index in that sample (e.g. batch 0, token 0,
   *     channel 99)
   * @param shape the tensor's shape in that sample
   */
  public record Extreme(
      String tensor,
      String node,
      String opType,
      double maxAbs,
      int sample,
      ImmutableList<Long> index,
      ImmutableList<Long> shape) {
    public Extreme {
      Preconditions.checkNotNull(tensor, "tensor");
      index = ImmutableList.copyOf(index);
      shape = ImmutableList.copyOf(shape);
    }

    /** {@code maxAbs / 65504}: 1 or more means the reference itself is beyond FP16's range. */
    public double shareOfMax() {
      return maxAbs / FP16_MAX;
    }

    /** Whether this is a graph input's extreme (the samples' values, not a computed tensor). */
    public boolean graphInput() {
      return isGraphInput(node, opType);
    }

    /** {@code 65504 - maxAbs}: how far the extreme is from overflowing (negative: beyond). */
    public double margin() {
      return FP16_MAX - maxAbs;
    }
  }

  /**
   * The extreme of {@code tensor} over {@code reference} (one map per sample) when it reaches
   * {@code share} of 65504.
   */
  static Optional<Extreme> scan(
      String tensor,
      String node,
      String opType,
      List<? extends Map<String, Tensor>> reference,
      double share) {
    double best = -1;
    int bestSample = -1;
    int bestFlat = -1;
    long[] bestShape = null;
    for (int s = 0; s < reference.size(); s++) {
      Tensor v = reference.get(s).get(tensor);
      if (v == null) {
        continue;
      }
      float[] x = v.toFloatArray();
      for (int i = 0; i < x.length; i++) {
        double a = Math.abs(x[i]);
        if (Double.isFinite(a) && a < FILL_SENTINEL && a > best) {
          best = a;
          bestSample = s;
          bestFlat = i;
          bestShape = v.shape();
        }
      }
    }
    if (bestSample < 0 || best < share * FP16_MAX) {
      return Optional.empty();
    }
    return Optional.of(
        new Extreme(
            tensor,
            node,
            opType,
            best,
            bestSample,
            unravel(bestFlat, bestShape),
            ImmutableList.copyOf(java.util.Arrays.stream(bestShape).boxed().toList())));
  }

  /** The C-order multi-index of flat position {@code flat} in {@code shape}. */
  static ImmutableList<Long> unravel(long flat, long[] shape) {
    Long[] idx = new Long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      long dim = Math.max(1, shape[d]);
      idx[d] = flat % dim;
      flat /= dim;
    }
    return ImmutableList.copyOf(idx);
  }
}
