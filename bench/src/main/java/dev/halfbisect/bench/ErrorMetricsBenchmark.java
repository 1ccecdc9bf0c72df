package dev.halfbisect.bench;

import dev.halfbisect.core.Half;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link ErrorMetrics#compare} over 16M float pairs: a Gaussian reference and its FP16-rounded
 * copy, the shape of a real layerwise comparison. One op = one full comparison.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms3g", "-Xmx3g"})
public class ErrorMetricsBenchmark {
  @Param({"16777216"})
  public int size;

  private float[] reference;
  private float[] candidate;

  @Setup
  public void setUp() {
    SplittableRandom rnd = new SplittableRandom(1);
    reference = new float[size];
    for (int i = 0; i < size; i++) {
      reference[i] = (float) rnd.nextGaussian();
    }
    candidate = reference.clone();
    Half.roundInPlace(candidate);
  }

  @Benchmark
  public ErrorStats compare() {
    return ErrorMetrics.compare(reference, candidate);
  }
}
