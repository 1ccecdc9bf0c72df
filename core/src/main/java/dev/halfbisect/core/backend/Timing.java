package dev.halfbisect.core.backend;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.Arrays;

/**
 * Latencies of timed runs of one session on one set of inputs (issue 20), with the clock that
 * measured them: a number is only a speed when {@link Clock#measuresFp16Speed()} says so.
 *
 * @param clock what was measured
 * @param warmup untimed runs made before
 * @param millis one latency per timed run, in milliseconds, in run order
 */
public record Timing(Clock clock, int warmup, ImmutableList<Double> millis) {

  /** What a latency measures. */
  public enum Clock {
    /** GPU time of one inference between two CUDA events recorded on the stream. */
    GPU_EVENTS("GPU time per inference (CUDA events)", true),
    /** Host wall time around enqueue and stream synchronize, inputs already on the GPU. */
    GPU_WALL("wall time around enqueue + synchronize", true),
    /** Host wall time around {@link BackendSession#run}, host copies included. */
    HOST_WALL("wall time around run(), host copies included", false),
    /** ONNX Runtime on the CPU: emulation computes in FP32, so this is no FP16 speed. */
    CPU_EMULATION("CPU emulation time, not FP16 speed", false);

    private final String description;
    private final boolean fp16Speed;

    Clock(String description, boolean fp16Speed) {
      this.description = description;
      this.fp16Speed = fp16Speed;
    }

    /** One phrase for reports, e.g. "GPU time per inference (CUDA events)". */
    public String description() {
      return description;
    }

    /** Whether latencies of this clock compare precisions (FP32 vs FP16) on real hardware. */
    public boolean measuresFp16Speed() {
      return fp16Speed;
    }
  }

  public Timing {
    Preconditions.checkNotNull(clock, "clock");
    Preconditions.checkArgument(!millis.isEmpty(), "a timing needs at least one run");
    millis = ImmutableList.copyOf(millis);
  }

  /** A timing from nanosecond durations. */
  public static Timing ofNanos(Clock clock, int warmup, long[] nanos) {
    ImmutableList.Builder<Double> b = ImmutableList.builder();
    for (long n : nanos) {
      b.add(n / 1e6);
    }
    return new Timing(clock, warmup, b.build());
  }

  /** Median latency in ms (mean of the two middle runs for an even count). */
  public double medianMillis() {
    return quantile(0.5);
  }

  /** 90th percentile latency in ms (linear interpolation between ranks). */
  public double p90Millis() {
    return quantile(0.9);
  }

  public double meanMillis() {
    return millis.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  /** Inferences per second of {@code batch} samples at the median latency. */
  public double throughput(long batch) {
    return batch * 1000.0 / medianMillis();
  }

  private double quantile(double q) {
    double[] s = millis.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(s);
    double pos = q * (s.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  }

  /** Times {@code runs} calls of {@code run} after {@code warmup} untimed ones, by wall clock. */
  public static Timing byWallClock(Clock clock, TimingRequest request, TimedCall run)
      throws BackendException {
    for (int i = 0; i < request.warmup(); i++) {
      run.call();
    }
    long[] nanos = new long[request.runs()];
    for (int i = 0; i < nanos.length; i++) {
      long t0 = System.nanoTime();
      run.call();
      nanos[i] = System.nanoTime() - t0;
    }
    return ofNanos(clock, request.warmup(), nanos);
  }

  /** One call being timed. */
  @FunctionalInterface
  public interface TimedCall {
    void call() throws BackendException;
  }
}
