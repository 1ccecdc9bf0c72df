package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps TensorRT layer names back to ONNX node names. The ONNX parser names each layer after its
 * node and sets the metadata {@code [ONNX Layer: <node>]}; helper layers it adds get derived names
 * ({@code node_1}, {@code ONNXTRT_...}) but keep the node's metadata. Engine layers are fused:
 * {@code "a + b"}, {@code "PWN(a, b)"}, {@code "{ForeignNode[first...last]}"}, with the metadata of
 * each part joined by a separator control character (0x1F in TensorRT 10.6 engine JSON).
 */
public final class LayerNames {
  private static final Pattern ONNX_LAYER =
      Pattern.compile("\\[ONNX Layer: ([^\\]\\x1e\\x1f]*)\\]");
  private static final Pattern FOREIGN = Pattern.compile("\\{ForeignNode\\[(.*)\\]\\}");

  private LayerNames() {}

  /**
   * The node names in {@code [ONNX Layer: x]} entries of a metadata string, in order, without
   * repeats.
   */
  public static ImmutableList<String> fromMetadata(String metadata) {
    Set<String> out = new LinkedHashSet<>();
    if (metadata != null) {
      Matcher m = ONNX_LAYER.matcher(metadata);
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return ImmutableList.copyOf(out);
  }

  /** ONNX nodes of a network layer: its metadata entries, or its own name when it has none. */
  public static ImmutableList<String> onnxNodes(String layerName, String metadata) {
    ImmutableList<String> fromMeta = fromMetadata(metadata);
    if (!fromMeta.isEmpty()) {
      return fromMeta;
    }
    return layerName == null || layerName.isEmpty()
        ? ImmutableList.of()
        : ImmutableList.of(layerName);
  }

  /**
   * The bounds of a Myelin region name {@code {ForeignNode[first...last]}}: two names (equal when
   * the region holds one layer), or empty when {@code engineName} is no such region.
   */
  public static ImmutableList<String> foreignNodeBounds(String engineName) {
    Matcher m = FOREIGN.matcher(engineName.trim());
    if (!m.matches()) {
      return ImmutableList.of();
    }
    String inner = m.group(1);
    int dots = inner.indexOf("...");
    if (dots < 0) {
      return ImmutableList.of(inner, inner);
    }
    return ImmutableList.of(inner.substring(0, dots), inner.substring(dots + 3));
  }

  /**
   * The network layer names in a fused engine layer name: {@code "a + b + c"} gives a, b, c; {@code
   * "PWN(a, b)"} gives a, b (nested PWN too); a reformat or plain name gives itself.
   */
  public static ImmutableList<String> fusedParts(String engineName) {
    Set<String> out = new LinkedHashSet<>();
    for (String part : engineName.split(" \\+ ")) {
      collectPwn(part.trim(), out);
    }
    return ImmutableList.copyOf(out);
  }

  private static void collectPwn(String s, Set<String> out) {
    if (s.startsWith("PWN(") && s.endsWith(")")) {
      String inner = s.substring(4, s.length() - 1);
      int depth = 0;
      int start = 0;
      for (int i = 0; i < inner.length(); i++) {
        char c = inner.charAt(i);
        if (c == '(') {
          depth++;
        } else if (c == ')') {
          depth--;
        } else if (c == ',' && depth == 0) {
          collectPwn(inner.substring(start, i).trim(), out);
          start = i + 1;
        }
      }
      collectPwn(inner.substring(start).trim(), out);
    } else if (!s.isEmpty()) {
      out.add(s);
    }
  }
}
