package dev.halfbisect.bench;

import dev.halfbisect.core.Half;
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
 * Bulk fp32 -> fp16 ({@link Half#fromFloats}) and fp16 -> fp32 ({@link Half#toFloats}) over 16M
 * elements of activations-like data (Gaussian, a few outliers beyond the FP16 range and some
 * subnormal-size values). One op = one array of {@code size} elements.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class HalfConversionBenchmark {
  @Param({"16777216"})
  public int size;

  private float[] floats;
  private short[] halves;
  private float[] floatOut;
  private short[] halfOut;

  @Setup
  public void setUp() {
    SplittableRandom rnd = new SplittableRandom(2);
    floats = new float[size];
    for (int i = 0; i < size; i++) {
      double g = rnd.nextGaussian();
      int kind = rnd.nextInt(1000);
      floats[i] = (float) (kind == 0 ? g * 1e5 : kind == 1 ? g * 1e-6 : g);
    }
    halves = Half.fromFloats(floats);
    floatOut = new float[size];
    halfOut = new short[size];
  }

  @Benchmark
  public short[] floatToHalf() {
    Half.fromFloats(floats, 0, halfOut, 0, size);
    return halfOut;
  }

  @Benchmark
  public float[] halfToFloat() {
    Half.toFloats(halves, 0, floatOut, 0, size);
    return floatOut;
  }
}
