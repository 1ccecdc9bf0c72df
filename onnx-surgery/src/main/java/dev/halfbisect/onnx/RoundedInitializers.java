package dev.halfbisect.onnx;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.protobuf.ByteString;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import javax.annotation.Nullable;

/**
 * The float32 raw data of an initializer clamped and rounded to a low-precision type, kept per
 * initializer instance while that instance lives. An emulation search rewrites the same parsed
 * model once per probe, and rounding MiniLM's 22 million weights took 150 to 800 ms of each probe
 * on 2 cores; the rounded values do not depend on the plan. Keys are compared by identity (weak
 * keys), so a model parsed again is rounded again and a model no longer used frees its entries.
 */
final class RoundedInitializers {
  private static final Cache<Onnx.TensorProto, ByteString> FP16 =
      CacheBuilder.newBuilder().weakKeys().build();
  private static final Cache<Onnx.TensorProto, ByteString> BF16 =
      CacheBuilder.newBuilder().weakKeys().build();

  private RoundedInitializers() {}

  /** {@code t}'s values clamped to {@code low}'s range and rounded, as float32 raw data. */
  static ByteString of(Onnx.TensorProto t, @Nullable Path baseDir, LowPrecision low) {
    try {
      return (low == LowPrecision.BF16 ? BF16 : FP16)
          .get(
              t,
              () -> {
                float[] r =
                    Fp16Support.clampAndRound(Fp16Support.floats(t, baseDir, "initializer"), low);
                ByteBuffer b = ByteBuffer.allocate(r.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(r);
                return ByteString.copyFrom(b);
              });
    } catch (ExecutionException | com.google.common.util.concurrent.UncheckedExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(c);
    }
  }
}
