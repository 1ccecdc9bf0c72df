package dev.halfbisect.core.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableSortedSet;
import dev.halfbisect.core.io.SafeFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What runs in which precision: a default precision for float compute, the ONNX node names pinned
 * to FP32, and whether graph inputs/outputs stay FP32. One plan has one meaning in every backend:
 * layer constraints in TensorRT weak typing, Casts in the FP16 rewrite, Cast pairs in emulation.
 */
public final class PrecisionPlan {
  /** Precision of float compute. */
  public enum Precision {
    FP32,
    FP16
  }

  /** Element type of graph inputs and outputs in an FP16 rewrite. */
  public enum IoPolicy {
    /** Graph I/O stays FP32; Casts are inserted behind inputs and before outputs. */
    KEEP_FP32,
    /** Float graph I/O becomes FP16 too. */
    FP16
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SCHEMA = "halfbisect-plan/1";
  private static final java.util.List<String> FIELDS =
      java.util.List.of("schema", "defaultPrecision", "ioPolicy", "fp32Nodes");

  private final Precision defaultPrecision;
  private final ImmutableSortedSet<String> fp32Nodes;
  private final IoPolicy ioPolicy;

  private PrecisionPlan(
      Precision defaultPrecision, Collection<String> fp32Nodes, IoPolicy ioPolicy) {
    this.defaultPrecision = Preconditions.checkNotNull(defaultPrecision, "defaultPrecision");
    this.fp32Nodes = ImmutableSortedSet.copyOf(fp32Nodes);
    this.ioPolicy = Preconditions.checkNotNull(ioPolicy, "ioPolicy");
    for (String n : this.fp32Nodes) {
      Preconditions.checkArgument(!n.isEmpty(), "empty node name in precision plan");
    }
  }

  /** Everything FP16, graph I/O FP32: the plain {@code --fp16} candidate. */
  public static PrecisionPlan allFp16() {
    return new PrecisionPlan(Precision.FP16, ImmutableSortedSet.of(), IoPolicy.KEEP_FP32);
  }

  /** Everything FP32: the reference. */
  public static PrecisionPlan allFp32() {
    return new PrecisionPlan(Precision.FP32, ImmutableSortedSet.of(), IoPolicy.KEEP_FP32);
  }

  /** FP16 with the given ONNX nodes pinned to FP32. */
  public static PrecisionPlan fp16Except(Collection<String> fp32Nodes) {
    return new PrecisionPlan(Precision.FP16, fp32Nodes, IoPolicy.KEEP_FP32);
  }

  public static PrecisionPlan of(
      Precision defaultPrecision, Collection<String> fp32Nodes, IoPolicy ioPolicy) {
    return new PrecisionPlan(defaultPrecision, fp32Nodes, ioPolicy);
  }

  public Precision defaultPrecision() {
    return defaultPrecision;
  }

  /** ONNX node names kept in FP32, sorted. */
  public ImmutableSortedSet<String> fp32Nodes() {
    return fp32Nodes;
  }

  public IoPolicy ioPolicy() {
    return ioPolicy;
  }

  /** Whether the node with this ONNX name computes in FP16 under the plan. */
  public boolean isFp16(String nodeName) {
    return defaultPrecision == Precision.FP16 && !fp32Nodes.contains(nodeName);
  }

  public PrecisionPlan withFp32Nodes(Collection<String> nodes) {
    return new PrecisionPlan(defaultPrecision, nodes, ioPolicy);
  }

  /** This plan with {@code nodes} pinned to FP32 as well. */
  public PrecisionPlan pin(Collection<String> nodes) {
    return new PrecisionPlan(
        defaultPrecision,
        ImmutableSortedSet.<String>naturalOrder().addAll(fp32Nodes).addAll(nodes).build(),
        ioPolicy);
  }

  public PrecisionPlan withIoPolicy(IoPolicy policy) {
    return new PrecisionPlan(defaultPrecision, fp32Nodes, policy);
  }

  /**
   * trtexec flags that build the same engine: {@code --fp16 --noTF32 --precisionConstraints=obey
   * --layerPrecisions=a:fp32,b:fp32}. {@code --noTF32}: halfbisect's TensorRT builds compute FP32
   * layers in FP32, as the reference and Polygraphy's {@code --fp16} do; trtexec's default lets
   * them use TF32 (10 mantissa bits, FP16's), so the engine would not be the one the plan was
   * tested on. trtexec splits its list on commas and the last colon, so names holding a comma are
   * quoted.
   */
  public String toTrtexecFlags() {
    if (defaultPrecision == Precision.FP32) {
      return "--noTF32";
    }
    if (fp32Nodes.isEmpty()) {
      return "--fp16 --noTF32";
    }
    String layers =
        fp32Nodes.stream()
            .map(n -> (n.contains(",") ? "\"" + n + "\"" : n) + ":fp32")
            .collect(Collectors.joining(","));
    return "--fp16 --noTF32 --precisionConstraints=obey --layerPrecisions=" + shellQuote(layers);
  }

  private static String shellQuote(String s) {
    if (s.matches("[A-Za-z0-9_./:,=+-]*")) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }

  /** Stable JSON: schema, defaultPrecision, ioPolicy, fp32Nodes (sorted). */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("schema", SCHEMA);
    root.put("defaultPrecision", defaultPrecision.name().toLowerCase(java.util.Locale.ROOT));
    root.put("ioPolicy", ioPolicy.name().toLowerCase(java.util.Locale.ROOT));
    ArrayNode nodes = root.putArray("fp32Nodes");
    fp32Nodes.forEach(nodes::add);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Parses {@link #toJson()} output. A missing {@code fp32Nodes} is an empty set; a field other
   * than the four, or a schema other than {@value #SCHEMA}, is an error (a misspelt {@code
   * fp32Nodes} silently meant no plan).
   *
   * @throws IllegalArgumentException with what is wrong
   */
  public static PrecisionPlan fromJson(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
      throw new IllegalArgumentException(
          "precision plan is not valid JSON"
              + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
              + ": "
              + e.getOriginalMessage(),
          e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("precision plan must be a JSON object");
    }
    for (java.util.Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw new IllegalArgumentException(
            "precision plan has an unknown field '" + f + "' (its fields: " + FIELDS + ")");
      }
    }
    if (root.has("schema") && !SCHEMA.equals(root.path("schema").asText())) {
      throw new IllegalArgumentException(
          "precision plan schema '"
              + root.path("schema").asText()
              + "' is not "
              + SCHEMA
              + " (a plan of another halfbisect version?)");
    }
    Precision p =
        parseEnum(
            Precision.class, root.path("defaultPrecision").asText("fp16"), "defaultPrecision");
    IoPolicy io = parseEnum(IoPolicy.class, root.path("ioPolicy").asText("keep_fp32"), "ioPolicy");
    JsonNode nodes = root.path("fp32Nodes");
    ImmutableSortedSet.Builder<String> names = ImmutableSortedSet.naturalOrder();
    if (!nodes.isMissingNode()) {
      if (!nodes.isArray()) {
        throw new IllegalArgumentException(
            "precision plan field fp32Nodes must be an array of node names");
      }
      for (JsonNode n : nodes) {
        if (!n.isTextual()) {
          throw new IllegalArgumentException(
              "precision plan field fp32Nodes holds a non-string: " + n);
        }
        names.add(n.asText());
      }
    }
    return new PrecisionPlan(p, names.build(), io);
  }

  /** Reads a plan file, naming the file in any error. */
  public static PrecisionPlan read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    try {
      return fromJson(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  public void write(Path file) throws IOException {
    SafeFiles.writeString(file, toJson());
  }

  private static <E extends Enum<E>> E parseEnum(Class<E> type, String text, String field) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(text.replace('-', '_'))) {
        return e;
      }
    }
    throw new IllegalArgumentException(
        "precision plan field " + field + " has unknown value '" + text + "'");
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof PrecisionPlan)) {
      return false;
    }
    PrecisionPlan p = (PrecisionPlan) o;
    return defaultPrecision == p.defaultPrecision
        && ioPolicy == p.ioPolicy
        && fp32Nodes.equals(p.fp32Nodes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(defaultPrecision, fp32Nodes, ioPolicy);
  }

  @Override
  public String toString() {
    return "PrecisionPlan["
        + defaultPrecision
        + ", fp32Nodes="
        + fp32Nodes.size()
        + ", io="
        + ioPolicy
        + "]";
  }
}
