package dev.halfbisect.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the input files Polygraphy writes ({@code polygraphy run --save-inputs F.json}, {@code
 * polygraphy data to-input}): a JSON list of feed dicts, one per sample, each mapping an input name
 * to an encoded NumPy array, or a single feed dict. Polygraphy's JSON encoder writes an array as an
 * object {@code {"array": BASE64, "polygraphy_class": "ndarray"}} where BASE64 is the bytes of
 * {@code numpy.save} (a {@code .npy} file); older versions mark it with the key {@code
 * __polygraphy_encoded_ndarray} and may hold the {@code .npy} bytes as a Latin-1 string. Both are
 * read here. Other Polygraphy objects (e.g. a whole {@code RunResults} file) are rejected.
 */
public final class PolygraphyJson {
  private static final String TYPE_MARKER = "polygraphy_class";
  private static final String LEGACY_MARKER = "__polygraphy_encoded_ndarray";

  private PolygraphyJson() {}

  /** The samples of a Polygraphy inputs file, in file order. */
  public static List<Map<String, Tensor>> read(Path file) throws IOException {
    String source = file.toString();
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file, StandardCharsets.UTF_8));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new NpyFormatException(
          source, "not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
    }
    if (root == null) {
      throw new NpyFormatException(source, "is empty; expected Polygraphy inputs (a JSON list)");
    }
    List<Map<String, Tensor>> out = new ArrayList<>();
    if (root.isArray()) {
      for (int i = 0; i < root.size(); i++) {
        out.add(feedDict(root.get(i), source + " sample " + i));
      }
    } else {
      out.add(feedDict(root, source));
    }
    if (out.isEmpty()) {
      throw new NpyFormatException(source, "holds an empty list of samples");
    }
    return Collections.unmodifiableList(out);
  }

  private static Map<String, Tensor> feedDict(JsonNode node, String where) {
    if (!node.isObject() || node.has(TYPE_MARKER)) {
      throw new NpyFormatException(
          where,
          "is not a feed dict {input name: array}"
              + (node.has(TYPE_MARKER) ? " but a Polygraphy " + node.get(TYPE_MARKER).asText() : "")
              + "; expected the file of polygraphy run --save-inputs");
    }
    Map<String, Tensor> sample = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      sample.put(f.getKey(), array(f.getValue(), where + " input '" + f.getKey() + "'"));
    }
    return Collections.unmodifiableMap(sample);
  }

  private static Tensor array(JsonNode v, String where) {
    boolean marked =
        v.isObject()
            && (v.path(TYPE_MARKER).asText().equals("ndarray") || v.has(LEGACY_MARKER))
            && v.path("array").isTextual();
    if (!marked) {
      throw new NpyFormatException(
          where,
          "is not a Polygraphy-encoded array {\"array\": ..., \"polygraphy_class\": \"ndarray\"}");
    }
    String text = v.get("array").asText();
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      bytes = text.getBytes(StandardCharsets.ISO_8859_1); // Polygraphy's older Latin-1 form
    }
    return Npy.parse(bytes, where);
  }
}
