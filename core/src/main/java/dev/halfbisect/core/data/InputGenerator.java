package dev.halfbisect.core.data;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes reproducible model inputs from {@link InputSpec}s. The bytes depend only on the seed, the
 * sample index and the input's spec, on any JVM: the generator is this class's own SplitMix64 and
 * all floating-point math is {@link StrictMath}. Each (sample, input name) pair gets its own
 * stream, so adding, removing or reordering inputs does not change the values of the others.
 *
 * <p>Uniform float values are {@code lo + (hi - lo) u} with u a 53-bit fraction in [0, 1), then
 * rounded to the dtype (float32 is kept below hi; float16/bfloat16 rounding may reach hi). Integer
 * values are uniform over the integers in [lo, hi). Normal values use the Box-Muller transform.
 */
public final class InputGenerator {
  private InputGenerator() {}

  /**
   * {@code samples} maps from input name to tensor, each in spec order.
   *
   * @throws IllegalArgumentException on duplicate input names or a negative sample count
   */
  public static List<Map<String, Tensor>> generate(List<InputSpec> specs, int samples, long seed) {
    Preconditions.checkArgument(samples >= 0, "sample count must be >= 0, got %s", samples);
    for (int i = 0; i < specs.size(); i++) {
      for (int j = 0; j < i; j++) {
        Preconditions.checkArgument(
            !specs.get(i).name().equals(specs.get(j).name()),
            "input '%s' is specified twice",
            specs.get(i).name());
      }
    }
    List<Map<String, Tensor>> out = new ArrayList<>(samples);
    for (int s = 0; s < samples; s++) {
      Map<String, Tensor> sample = new LinkedHashMap<>();
      for (InputSpec spec : specs) {
        sample.put(spec.name(), generate(spec, s, seed));
      }
      out.add(Collections.unmodifiableMap(sample));
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * The tensor of one input in one sample: the fill drawn, then the spec's pins written over it
   * (the drawn values elsewhere do not depend on the pins).
   */
  public static Tensor generate(InputSpec spec, int sample, long seed) {
    Tensor t = drawn(spec, sample, seed);
    return spec.pins().isEmpty() ? t : pinned(t, spec.pins());
  }

  /** {@code t} with each pin's position of the last axis set to its value in every row. */
  private static Tensor pinned(Tensor t, List<InputSpec.Pin> pins) {
    long[] shape = t.shape();
    int len = (int) shape[shape.length - 1];
    int rows = len == 0 ? 0 : t.intSize() / len;
    int width = t.dtype().byteSize();
    java.nio.ByteBuffer out =
        java.nio.ByteBuffer.allocate(t.intSize() * width).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    out.put(t.bytes().duplicate());
    for (InputSpec.Pin p : pins) {
      int pos = (int) (p.position() < 0 ? len + p.position() : p.position());
      Tensor one =
          generate(
              new InputSpec("pin", new long[] {1}, t.dtype(), new InputSpec.Constant(p.value())),
              0,
              0);
      byte[] value = new byte[width];
      one.bytes().duplicate().get(value);
      for (int r = 0; r < rows; r++) {
        out.position((r * len + pos) * width);
        out.put(value);
      }
    }
    out.rewind();
    return Tensor.ofBytes(t.dtype(), shape, out);
  }

  private static Tensor drawn(InputSpec spec, int sample, long seed) {
    SplitMix64 rng = new SplitMix64(streamSeed(seed, sample, spec.name()));
    long[] shape = spec.shape();
    int n = (int) Tensor.elementCount(shape);
    InputSpec.Fill fill = spec.fill();
    switch (spec.dtype()) {
      case FLOAT64:
        {
          double[] v = new double[n];
          for (int i = 0; i < n; i++) {
            v[i] = nextReal(rng, fill);
          }
          return Tensor.ofDoubles(shape, v);
        }
      case FLOAT32:
        {
          float[] v = new float[n];
          for (int i = 0; i < n; i++) {
            float f = (float) nextReal(rng, fill);
            if (fill instanceof InputSpec.Uniform u && f >= u.hi()) {
              f = Math.nextDown((float) u.hi()); // rounding up to hi would leave [lo, hi)
            }
            v[i] = f;
          }
          return Tensor.ofFloats(shape, v);
        }
      case FLOAT16:
        {
          short[] v = new short[n];
          for (int i = 0; i < n; i++) {
            v[i] = Half.fromFloat((float) nextReal(rng, fill));
          }
          return Tensor.ofHalfBits(shape, v);
        }
      case BFLOAT16:
        {
          short[] v = new short[n];
          for (int i = 0; i < n; i++) {
            v[i] = Half.bfloat16FromFloat((float) nextReal(rng, fill));
          }
          return Tensor.ofBFloat16Bits(shape, v);
        }
      default:
        {
          long[] v = new long[n];
          for (int i = 0; i < n; i++) {
            v[i] = nextInteger(rng, fill);
          }
          switch (spec.dtype()) {
            case INT64:
              return Tensor.ofLongs(shape, v);
            case INT32:
              {
                int[] w = new int[n];
                for (int i = 0; i < n; i++) {
                  w[i] = (int) v[i];
                }
                return Tensor.ofInts(shape, w);
              }
            case INT8:
            case UINT8:
              {
                byte[] w = new byte[n];
                for (int i = 0; i < n; i++) {
                  w[i] = (byte) v[i];
                }
                return Tensor.ofBytes(spec.dtype(), shape, w);
              }
            case BOOL:
              {
                boolean[] w = new boolean[n];
                for (int i = 0; i < n; i++) {
                  w[i] = v[i] != 0;
                }
                return Tensor.ofBooleans(shape, w);
              }
            default:
              throw new AssertionError(spec.dtype());
          }
        }
    }
  }

  private static double nextReal(SplitMix64 rng, InputSpec.Fill fill) {
    if (fill instanceof InputSpec.Constant c) {
      return c.value();
    }
    if (fill instanceof InputSpec.Uniform u) {
      return u.lo() + (u.hi() - u.lo()) * rng.nextUnit();
    }
    InputSpec.Normal g = (InputSpec.Normal) fill;
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]
    double u1 = 1.0 - rng.nextUnit();
    double u2 = rng.nextUnit();
    double z =
        StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
    return g.mean() + g.std() * z;
  }

  private static long nextInteger(SplitMix64 rng, InputSpec.Fill fill) {
    if (fill instanceof InputSpec.Constant c) {
      return (long) c.value();
    }
    InputSpec.Uniform u = (InputSpec.Uniform) fill; // InputSpec rejects normal() for integer dtypes
    long lo = (long) u.lo();
    long hi = (long) Math.ceil(u.hi());
    return lo + rng.nextBelow(hi - lo);
  }

  /** The seed of the stream for one input of one sample: independent of every other input. */
  static long streamSeed(long seed, int sample, String inputName) {
    long h = 0xcbf29ce484222325L; // FNV-1a over the name's UTF-8 bytes
    for (byte b : inputName.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return SplitMix64.mix(SplitMix64.mix(seed ^ 0x5deece66dL) + SplitMix64.mix(h) * 31 + sample);
  }

  /** Steele, Lea and Flood's SplitMix64: tiny, fast, and fixed here so the output never changes. */
  static final class SplitMix64 {
    private long state;

    SplitMix64(long seed) {
      this.state = seed;
    }

    static long mix(long z) {
      z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
      z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
      return z ^ (z >>> 31);
    }

    long nextLong() {
      state += 0x9e3779b97f4a7c15L;
      return mix(state);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    double nextUnit() {
      return (nextLong() >>> 11) * 0x1p-53;
    }

    /** Uniform in [0, bound) for bound > 0 taken as unsigned, without modulo bias. */
    long nextBelow(long bound) {
      long limit = Long.remainderUnsigned(-bound, bound); // 2^64 mod bound
      while (true) {
        long r = nextLong();
        if (Long.compareUnsigned(r, limit) >= 0) {
          return Long.remainderUnsigned(r, bound);
        }
      }
    }
  }
}
