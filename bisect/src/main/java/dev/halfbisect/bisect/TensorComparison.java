package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.metrics.ErrorStats;
import java.util.List;

/**
 * A tensor's error over all samples: one {@link TensorError} per sample, and the worst. The tensor
 * fails when it fails on any sample.
 */
public record TensorComparison(String tensor, ImmutableList<TensorError> perSample) {
  public TensorComparison {
    Preconditions.checkNotNull(tensor, "tensor");
    perSample = ImmutableList.copyOf(perSample);
    Preconditions.checkArgument(!perSample.isEmpty(), "tensor %s compared on no sample", tensor);
  }

  public static TensorComparison of(String tensor, List<TensorError> perSample) {
    return new TensorComparison(tensor, ImmutableList.copyOf(perSample));
  }

  public boolean pass() {
    return perSample.stream().allMatch(TensorError::pass);
  }

  /** The worst sample: a failing one before a passing one, then the largest normalized error. */
  public TensorError worst() {
    TensorError w = perSample.get(0);
    for (TensorError e : perSample) {
      if (worse(e, w)) {
        w = e;
      }
    }
    return w;
  }

  /** Worst value of each statistic over the samples (core {@link ErrorStats#worstOf}). */
  public ErrorStats worstStats() {
    return ErrorStats.worstOf(perSample.stream().map(TensorError::stats).toList());
  }

  public double normalizedError() {
    return worst().normalizedError();
  }

  public double maxAbs() {
    return perSample.stream().mapToDouble(TensorError::maxAbs).max().orElse(0);
  }

  private static boolean worse(TensorError a, TensorError b) {
    if (a.pass() != b.pass()) {
      return !a.pass();
    }
    double na = Double.isNaN(a.normalizedError()) ? Double.POSITIVE_INFINITY : a.normalizedError();
    double nb = Double.isNaN(b.normalizedError()) ? Double.POSITIVE_INFINITY : b.normalizedError();
    return na > nb;
  }
}
