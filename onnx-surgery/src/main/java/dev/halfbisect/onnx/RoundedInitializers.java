package dev.halfbisect.onnx;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.protobuf.ByteString;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import javax.annotation.Nullable;

/**
 * Converted weights kept per initializer instance while that instance lives: an initializer's
 * float32 values clamped and rounded to a low-precision type (kept as float32, for {@link
 * Fp16Emulation}), the same values encoded in the low type (for {@link Fp16Conversion}), and a
 * low-type raw buffer widened back to float32 (for {@link CastPlacedEmulation}). A search rewrites
 * the same parsed model once per probe, and converting MiniLM's 22 million weights took 150 to 800
 * ms of each probe on 2 cores; the converted values do not depend on the plan. Keys are compared by
 * identity (weak keys), so a model parsed again is converted again and a model no longer used frees
 * its entries. The strong path chains two of these: the encoded buffer {@link #encoded} returns is
 * the same instance each time, so {@link #widened} finds it.
 */
final class RoundedInitializers {
  private static final Map<LowPrecision, Cache<Onnx.TensorProto, ByteString>> ROUNDED = perType();
  private static final Map<LowPrecision, Cache<Onnx.TensorProto, ByteString>> ENCODED = perType();
  private static final Map<LowPrecision, Cache<ByteString, ByteString>> WIDENED = perType();

  private RoundedInitializers() {}

  /** One identity-keyed cache per low-precision type. */
  private static <K> Map<LowPrecision, Cache<K, ByteString>> perType() {
    Map<LowPrecision, Cache<K, ByteString>> m = new EnumMap<>(LowPrecision.class);
    for (LowPrecision low : LowPrecision.values()) {
      m.put(low, CacheBuilder.newBuilder().weakKeys().build());
    }
    return m;
  }

  /** {@code t}'s values clamped to {@code low}'s range and rounded, as float32 raw data. */
  static ByteString of(Onnx.TensorProto t, @Nullable Path baseDir, LowPrecision low) {
    return cached(
        ROUNDED.get(low),
        t,
        () ->
            Fp16Support.float32Raw(
                Fp16Support.clampAndRound(Fp16Support.floats(t, baseDir, "initializer"), low)));
  }

  /**
   * {@code t}'s float32 values clamped to {@code low}'s range and encoded in {@code low}'s type
   * (little-endian, two bytes a value): the raw data of the converted initializer.
   */
  static ByteString encoded(Onnx.TensorProto t, @Nullable Path baseDir, LowPrecision low) {
    return cached(
        ENCODED.get(low),
        t,
        () -> Fp16Support.lowRaw(Fp16Support.floats(t, baseDir, "initializer"), low));
  }

  /**
   * Raw data of {@code low}'s type ({@code raw}, two bytes a value) widened to float32 raw data.
   */
  static ByteString widened(ByteString raw, LowPrecision low) {
    return cached(
        WIDENED.get(low),
        raw,
        () -> {
          ByteBuffer in = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
          float[] v = new float[raw.size() / 2];
          for (int i = 0; i < v.length; i++) {
            v[i] = low.fromBits(in.getShort(2 * i));
          }
          return Fp16Support.float32Raw(v);
        });
  }

  private static <K> ByteString cached(
      Cache<K, ByteString> cache, K key, java.util.concurrent.Callable<ByteString> compute) {
    try {
      return cache.get(key, compute);
    } catch (ExecutionException | com.google.common.util.concurrent.UncheckedExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(c);
    }
  }
}
