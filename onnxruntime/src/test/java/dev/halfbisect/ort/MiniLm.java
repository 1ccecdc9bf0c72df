package dev.halfbisect.ort;

import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Random;

/**
 * all-MiniLM-L6-v2 ({@link MiniLmModel}) read once per JVM, and seeded token inputs: input_ids
 * uniform in [1000, 21000), attention_mask 1, token_type_ids 0.
 */
final class MiniLm {
  private static byte[] bytes;

  private MiniLm() {}

  static synchronized ModelRef model() {
    if (bytes == null) {
      try {
        bytes = MiniLmModel.bytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return ModelRef.ofBytes(MiniLmModel.FILE_NAME, bytes, null);
  }

  static Map<String, Tensor> tokens(int batch, int seq, long seed) {
    Random r = new Random(seed);
    long[] shape = {batch, seq};
    long[] ids = new long[batch * seq];
    long[] mask = new long[ids.length];
    long[] types = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1000 + r.nextInt(20000);
      mask[i] = 1;
    }
    return ImmutableMap.of(
        "input_ids",
        Tensor.ofLongs(shape, ids),
        "attention_mask",
        Tensor.ofLongs(shape, mask),
        "token_type_ids",
        Tensor.ofLongs(shape, types));
  }
}
