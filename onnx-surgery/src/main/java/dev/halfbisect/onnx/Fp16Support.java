package dev.halfbisect.onnx;

import com.google.protobuf.ByteString;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@link Fp16Conversion} and {@link Fp16Emulation} share: element types of the graph's
 * tensors, which nodes run in FP16 under a plan, which inputs must stay float32 by op schema, and
 * float32/float16 initializer data.
 */
final class Fp16Support {
  private static final int FLOAT = DType.FLOAT32.onnxCode();
  static final int FLOAT16 = DType.FLOAT16.onnxCode();

  private Fp16Support() {}

  // ---------------------------------------------------------------- op tables

  /**
   * Ops whose ONNX type constraints have no float16 (at least up to the opset given in the
   * comment), so neither ONNX Runtime nor TensorRT can run them in FP16: they stay FP32.
   */
  static boolean lacksFp16Form(Onnx.NodeProto n, long opset) {
    switch (n.getOpType()) {
      case "Range": // T: float, double, int16, int32, int64
      case "NonMaxSuppression": // boxes/scores: float only
      case "DynamicQuantizeLinear": // T1: float only
        return true;
      case "IsInf": // float16 only from opset 20
        return opset < 20;
      case "CumSum": // float16 only from opset 14
        return opset < 14;
      case "QuantizeLinear": // float16 input only from opset 19
        return opset < 19;
      default:
        return false;
    }
  }

  /**
   * Control flow and other-domain nodes are left alone: their subgraphs/types are not rewritten.
   */
  static boolean isOpaque(Onnx.NodeProto n) {
    if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
      return true;
    }
    for (Onnx.AttributeProto a : n.getAttributeList()) {
      if (a.hasG() || a.getGraphsCount() > 0) {
        return true;
      }
    }
    return false;
  }

  /** Inputs that must stay float32 whatever the node's precision (e.g. Resize roi and scales). */
  static boolean mustStayFp32(Onnx.NodeProto n, int slot, long opset) {
    switch (n.getOpType()) {
      case "Resize":
        return opset >= 11 ? slot == 1 || slot == 2 : slot == 1;
      case "Upsample":
        return slot == 1;
      default:
        return false;
    }
  }

  /** Inputs read only for their shape: their precision does not matter. */
  static boolean shapeOnly(Onnx.NodeProto n, int slot) {
    return slot == 0 && (n.getOpType().equals("Shape") || n.getOpType().equals("Size"));
  }

  // ---------------------------------------------------------------- analysis

  /** Element types and node precisions of one graph under one plan. */
  static final class Analysis {
    final Onnx.GraphProto graph;
    final long opset;
    final Map<String, Integer> types;
    final Set<String> initializers = new HashSet<>();
    final Set<String> graphInputs = new HashSet<>();
    final Set<String> graphOutputs = new HashSet<>();

    /** Node index -> FP16 under the plan. */
    final boolean[] fp16;

    /** Nodes the plan wanted in FP16 that stay FP32 because the op has no FP16 form. */
    final List<String> keptFp32NoFp16Form = new ArrayList<>();

    final Map<String, Integer> producer = new HashMap<>();

    /** The graph's nodes in topological order; indices below refer to this list. */
    final List<Onnx.NodeProto> nodes;

    final java.nio.file.Path baseDir;

    Analysis(OnnxModel model, PrecisionPlan plan) {
      this.graph = model.graph();
      this.opset = model.opsetVersion();
      this.baseDir = model.baseDir().orElse(null);
      this.types = typesOf(model);
      for (Onnx.TensorProto t : graph.getInitializerList()) {
        initializers.add(t.getName());
      }
      for (Onnx.ValueInfoProto v : graph.getInputList()) {
        if (!initializers.contains(v.getName())) {
          graphInputs.add(v.getName());
        }
      }
      for (Onnx.ValueInfoProto v : graph.getOutputList()) {
        graphOutputs.add(v.getName());
      }
      nodes = List.copyOf(model.index().nodes());
      fp16 = new boolean[nodes.size()];
      for (int i = 0; i < nodes.size(); i++) {
        Onnx.NodeProto n = nodes.get(i);
        for (String o : n.getOutputList()) {
          producer.put(o, i);
        }
        if (!plan.isFp16(n.getName()) || !touchesFloat32(n) || isOpaque(n)) {
          continue;
        }
        if (lacksFp16Form(n, opset)) {
          keptFp32NoFp16Form.add(n.getName());
          continue;
        }
        fp16[i] = true;
      }
    }

    boolean isFloat32(String tensor) {
      return !tensor.isEmpty() && Integer.valueOf(FLOAT).equals(types.get(tensor));
    }

    boolean touchesFloat32(Onnx.NodeProto n) {
      for (String t : n.getInputList()) {
        if (isFloat32(t)) {
          return true;
        }
      }
      for (String t : n.getOutputList()) {
        if (isFloat32(t)) {
          return true;
        }
      }
      return false;
    }

    /** Whether input {@code slot} of FP16 node {@code n} is consumed in FP16. */
    boolean consumesFp16(Onnx.NodeProto n, int slot) {
      String t = n.getInput(slot);
      return isFloat32(t) && !mustStayFp32(n, slot, opset) && !shapeOnly(n, slot);
    }
  }

  /** Element type codes (from {@link GraphIndex}) of every tensor the graph names. */
  static Map<String, Integer> typesOf(OnnxModel model) {
    GraphIndex index = model.index();
    Onnx.GraphProto g = model.graph();
    Map<String, Integer> types = new HashMap<>();
    java.util.function.Consumer<String> put =
        t -> {
          if (!t.isEmpty()) {
            index.elementTypeCode(t).ifPresent(c -> types.put(t, c));
          }
        };
    g.getInputList().forEach(v -> put.accept(v.getName()));
    g.getInitializerList().forEach(t -> put.accept(t.getName()));
    for (Onnx.NodeProto n : g.getNodeList()) {
      n.getInputList().forEach(put);
      n.getOutputList().forEach(put);
    }
    return types;
  }

  static boolean hasAttr(Onnx.NodeProto n, String name) {
    return n.getAttributeList().stream().anyMatch(a -> a.getName().equals(name));
  }

  static long intAttr(Onnx.NodeProto n, String name, long dflt) {
    for (Onnx.AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return dflt;
  }

  // ---------------------------------------------------------------- data

  /** Clamps finite values beyond the FP16 range to +-65504 (TensorRT's weight conversion rule). */
  static float clampToFp16Range(float v) {
    if (v > Half.MAX_VALUE && v != Float.POSITIVE_INFINITY) {
      return Half.MAX_VALUE;
    }
    if (v < -Half.MAX_VALUE && v != Float.NEGATIVE_INFINITY) {
      return -Half.MAX_VALUE;
    }
    return v;
  }

  /** Values of a float32 tensor proto (inline or external data relative to {@code baseDir}). */
  static float[] floats(
      Onnx.TensorProto t, @javax.annotation.Nullable java.nio.file.Path baseDir, String where) {
    if (t.getDataType() != FLOAT) {
      throw new IllegalArgumentException(where + ": tensor '" + t.getName() + "' is not float32");
    }
    return TensorData.toTensor(t, baseDir).toFloatArray();
  }

  /** {@code t} (same dims) holding {@code values} as inline float32 raw_data. */
  static Onnx.TensorProto withFloat32(Onnx.TensorProto t, String name, float[] values) {
    return inline(t, name).setDataType(FLOAT).setRawData(float32Raw(values)).build();
  }

  /** {@code values} as little-endian float32 raw data. */
  static ByteString float32Raw(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return ByteString.copyFrom(b);
  }

  /** {@code values} clamped to {@code low}'s range, as little-endian raw data of its type. */
  static ByteString lowRaw(float[] values, LowPrecision low) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      b.putShort(2 * i, low.toBits(low.clampToRange(values[i])));
    }
    return ByteString.copyFrom(b);
  }

  /** {@code t} (same dims) as float32 raw_data {@code raw} (little-endian), named {@code name}. */
  static Onnx.TensorProto withFloat32Raw(Onnx.TensorProto t, String name, ByteString raw) {
    return inline(t, name).setDataType(FLOAT).setRawData(raw).build();
  }

  /** {@code t} (same dims) as raw data {@code raw} of {@code low}'s type, named {@code name}. */
  static Onnx.TensorProto withLowRaw(
      Onnx.TensorProto t, String name, ByteString raw, LowPrecision low) {
    return inline(t, name).setDataType(low.onnxCode()).setRawData(raw).build();
  }

  private static Onnx.TensorProto.Builder inline(Onnx.TensorProto t, String name) {
    return t.toBuilder()
        .setName(name)
        .clearFloatData()
        .clearRawData()
        .clearExternalData()
        .clearDataLocation();
  }

  /** {@code t} (same dims) as float16 raw_data, values clamped to the FP16 range first. */
  static Onnx.TensorProto toFloat16(Onnx.TensorProto t, String name, float[] values) {
    return toLow(t, name, values, LowPrecision.FP16);
  }

  /**
   * {@code t} (same dims) as raw_data of {@code low}'s type (float16 or bfloat16), values clamped
   * to its range first (issue 19).
   */
  static Onnx.TensorProto toLow(Onnx.TensorProto t, String name, float[] values, LowPrecision low) {
    return withLowRaw(t, name, lowRaw(values, low), low);
  }

  /** Clamped to the FP16 range and rounded to FP16 precision, kept as float32. */
  static float[] clampAndRound(float[] values) {
    return clampAndRound(values, LowPrecision.FP16);
  }

  /** Clamped to {@code low}'s range and rounded to its precision, kept as float32. */
  static float[] clampAndRound(float[] values, LowPrecision low) {
    float[] out = new float[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = low.round(low.clampToRange(values[i]));
    }
    return out;
  }

  static Onnx.NodeProto castNode(String name, String in, String out, int to) {
    return Onnx.NodeProto.newBuilder()
        .setName(name)
        .setOpType("Cast")
        .addInput(in)
        .addOutput(out)
        .addAttribute(
            Onnx.AttributeProto.newBuilder()
                .setName("to")
                .setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(to))
        .build();
  }

  /** Names not yet used by any tensor or node of the graph. */
  static final class Names {
    private final Set<String> used = new HashSet<>();

    Names(Onnx.GraphProto g) {
      for (Onnx.NodeProto n : g.getNodeList()) {
        used.add(n.getName());
        used.addAll(n.getInputList());
        used.addAll(n.getOutputList());
      }
      g.getInitializerList().forEach(t -> used.add(t.getName()));
      g.getInputList().forEach(v -> used.add(v.getName()));
      g.getOutputList().forEach(v -> used.add(v.getName()));
    }

    String fresh(String base) {
      String n = base;
      int k = 1;
      while (!used.add(n)) {
        n = base + "_" + k++;
      }
      return n;
    }
  }
}
