package dev.halfbisect.api;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Real text as input samples (issue 15): one line of a text file is one sample, tokenized with a
 * HuggingFace {@code tokenizer.json} by DJL's tokenizers (the Rust library, in-process) and padded
 * or truncated to the model's sequence length. The token ids fill the inputs named like {@code
 * *input_ids*} (or {@code *ids*}), the attention mask those named like {@code *mask*}, the type ids
 * those named like {@code *type*}.
 *
 * <p>DJL never goes online here: {@code ai.djl.offline=true}, the CPU build of the native library
 * ({@code RUST_FLAVOR=cpu}) and a cache folder under {@code ~/.cache/halfbisect/djl} are set unless
 * the caller set them. The native library loads on the first tokenization, not when this class is
 * referenced.
 */
final class TextSamples {
  private TextSamples() {}

  /** Which model input gets what part of an encoding. */
  enum Role {
    IDS,
    MASK,
    TYPE
  }

  /** The role of an integer input by its name, or null when it takes no part of an encoding. */
  static Role roleOf(String inputName) {
    String n = inputName.toLowerCase(Locale.ROOT);
    if (n.contains("mask")) {
      return Role.MASK;
    }
    if (n.contains("type")) {
      return Role.TYPE;
    }
    return n.contains("ids") ? Role.IDS : null;
  }

  /**
   * Tokenizes each non-blank line of {@code text} into one sample.
   *
   * @param inputs model input name to its element type (INT64 or INT32) and role
   * @param seqLen the sequence length every sample is padded or truncated to
   * @throws HalfBisectException USAGE naming the file when it cannot be read or tokenized
   */
  static List<Map<String, Tensor>> tokenize(
      Path text, Path tokenizerJson, Map<String, DType> inputs, int seqLen) {
    List<String> lines;
    try {
      lines =
          Files.readAllLines(text, StandardCharsets.UTF_8).stream()
              .filter(l -> !l.isBlank())
              .toList();
    } catch (IOException e) {
      throw HalfBisectException.usage("cannot read text file " + text + ": " + e.getMessage());
    }
    if (lines.isEmpty()) {
      throw HalfBisectException.usage(
          "text file " + text + " has no non-blank line (one a sample)");
    }
    configureOffline();
    List<Map<String, Tensor>> out = new ArrayList<>();
    try (HuggingFaceTokenizer tok =
        HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizerJson)
            .optMaxLength(seqLen)
            .optTruncation(true)
            .optPadToMaxLength()
            .build()) {
      for (String line : lines) {
        Encoding e = tok.encode(line);
        Map<String, Tensor> sample = new LinkedHashMap<>();
        for (Map.Entry<String, DType> in : inputs.entrySet()) {
          Role role = roleOf(in.getKey());
          long[] values =
              role == Role.MASK
                  ? e.getAttentionMask()
                  : role == Role.TYPE ? e.getTypeIds() : e.getIds();
          sample.put(in.getKey(), tensor(in.getValue(), fit(values, seqLen)));
        }
        out.add(Collections.unmodifiableMap(sample));
      }
    } catch (IOException | RuntimeException e) {
      throw HalfBisectException.usage(
          "cannot tokenize text file "
              + text
              + " with --tokenizer "
              + tokenizerJson
              + " (expected a HuggingFace tokenizer.json): "
              + e.getMessage());
    }
    return Collections.unmodifiableList(out);
  }

  /** Exactly {@code n} values: the tokenizer pads and truncates, this only guards the length. */
  private static long[] fit(long[] v, int n) {
    long[] r = new long[n];
    System.arraycopy(v, 0, r, 0, Math.min(n, v.length));
    return r;
  }

  private static Tensor tensor(DType dtype, long[] v) {
    long[] shape = {1, v.length};
    if (dtype == DType.INT32) {
      int[] w = new int[v.length];
      for (int i = 0; i < v.length; i++) {
        w[i] = Math.toIntExact(v[i]);
      }
      return Tensor.ofInts(shape, w);
    }
    return Tensor.ofLongs(shape, v);
  }

  /** DJL offline, CPU native, cache under halfbisect's folder; settings the caller made stay. */
  private static void configureOffline() {
    setIfAbsent("ai.djl.offline", "true");
    setIfAbsent("RUST_FLAVOR", "cpu");
    if (System.getenv("DJL_CACHE_DIR") == null && System.getenv("ENGINE_CACHE_DIR") == null) {
      Path cache = Path.of(System.getProperty("user.home"), ".cache", "halfbisect", "djl");
      setIfAbsent("DJL_CACHE_DIR", cache.toString());
      setIfAbsent("ENGINE_CACHE_DIR", cache.toString());
    }
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null && System.getenv(key) == null) {
      System.setProperty(key, value);
    }
  }
}
