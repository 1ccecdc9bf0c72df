package dev.halfbisect.onnx;

import com.google.protobuf.ByteString;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
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

  /** Control flow and other-domain nodes are left alone: their subgraphs/types are not rewritten. */
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

    Analysis(Onnx.ModelProto model, PrecisionPlan plan) {
      this.graph = model.getGraph();
      this.opset = opsetOf(model);
      this.types = inferTypes(graph);
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
      fp16 = new boolean[graph.getNodeCount()];
      for (int i = 0; i < graph.getNodeCount(); i++) {
        Onnx.NodeProto n = graph.getNode(i);
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

  static long opsetOf(Onnx.ModelProto m) {
    for (Onnx.OperatorSetIdProto o : m.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        return o.getVersion();
      }
    }
    throw new IllegalArgumentException("model " + m.getGraph().getName() + " imports no default-domain opset");
  }

  /**
   * ONNX element type codes of the graph's tensors: declared ones (inputs, outputs, value_info,
   * initializers) and, for the rest, the usual rule of each op (most ops: the type of their first
   * typed input). Tensors whose type cannot be told are absent.
   */
  static Map<String, Integer> inferTypes(Onnx.GraphProto g) {
    Map<String, Integer> types = new HashMap<>();
    for (Onnx.TensorProto t : g.getInitializerList()) {
      types.put(t.getName(), t.getDataType());
    }
    for (List<Onnx.ValueInfoProto> list : List.of(g.getInputList(), g.getValueInfoList(), g.getOutputList())) {
      for (Onnx.ValueInfoProto v : list) {
        if (v.getType().hasTensorType() && v.getType().getTensorType().getElemType() != 0) {
          types.putIfAbsent(v.getName(), v.getType().getTensorType().getElemType());
        }
      }
    }
    for (Onnx.NodeProto n : g.getNodeList()) {
      for (int k = 0; k < n.getOutputCount(); k++) {
        String out = n.getOutput(k);
        if (out.isEmpty() || types.containsKey(out)) {
          continue;
        }
        Integer t = outputType(n, k, types);
        if (t != null) {
          types.put(out, t);
        }
      }
    }
    return types;
  }

  private static Integer outputType(Onnx.NodeProto n, int k, Map<String, Integer> types) {
    switch (n.getOpType()) {
      case "Cast":
        return (int) intAttr(n, "to", FLOAT);
      case "CastLike":
        return typeAt(n, 1, types);
      case "Shape": case "Size": case "ArgMax": case "ArgMin": case "NonZero": case "NonMaxSuppression":
        return DType.INT64.onnxCode();
      case "Equal": case "Less": case "Greater": case "LessOrEqual": case "GreaterOrEqual":
      case "Not": case "And": case "Or": case "Xor": case "IsNaN": case "IsInf":
        return DType.BOOL.onnxCode();
      case "Where":
        return typeAt(n, 1, types);
      case "TopK": case "Unique":
        return k == 0 ? typeAt(n, 0, types) : Integer.valueOf(DType.INT64.onnxCode());
      case "Constant": case "ConstantOfShape": {
        for (Onnx.AttributeProto a : n.getAttributeList()) {
          switch (a.getName()) {
            case "value": return a.getT().getDataType();
            case "value_float": case "value_floats": return FLOAT;
            case "value_int": case "value_ints": return DType.INT64.onnxCode();
            default: break;
          }
        }
        return n.getOpType().equals("ConstantOfShape") ? FLOAT : null;
      }
      case "RandomNormal": case "RandomUniform":
        return (int) intAttr(n, "dtype", FLOAT);
      case "EyeLike": case "RandomNormalLike": case "RandomUniformLike": case "Bernoulli":
        return hasAttr(n, "dtype") ? Integer.valueOf((int) intAttr(n, "dtype", FLOAT)) : typeAt(n, 0, types);
      case "Multinomial":
        return (int) intAttr(n, "dtype", DType.INT32.onnxCode());
      case "DequantizeLinear":
        return typeAt(n, 1, types);
      case "QuantizeLinear":
        return n.getInputCount() > 2 ? typeAt(n, 2, types) : Integer.valueOf(DType.UINT8.onnxCode());
      case "LayerNormalization":
        return k == 0 ? typeAt(n, 0, types) : Integer.valueOf(FLOAT);
      case "MaxPool":
        return k == 0 ? typeAt(n, 0, types) : Integer.valueOf(DType.INT64.onnxCode());
      default:
        for (String in : n.getInputList()) {
          if (!in.isEmpty() && types.containsKey(in)) {
            return types.get(in);
          }
        }
        return null;
    }
  }

  private static Integer typeAt(Onnx.NodeProto n, int slot, Map<String, Integer> types) {
    return slot < n.getInputCount() ? types.get(n.getInput(slot)) : null;
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

  /** Values of a float32 tensor proto stored inline (raw_data or float_data). */
  static float[] floats(Onnx.TensorProto t, String where) {
    if (t.getDataType() != FLOAT) {
      throw new IllegalArgumentException(where + ": tensor '" + t.getName() + "' is not float32");
    }
    if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
      throw new IllegalArgumentException(where + ": tensor '" + t.getName()
          + "' keeps its data in an external file; load the model with its external data inlined first");
    }
    long n = 1;
    for (long d : t.getDimsList()) {
      n *= d;
    }
    if (t.hasRawData()) {
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      if (b.remaining() != n * 4) {
        throw new IllegalArgumentException(where + ": tensor '" + t.getName() + "' has " + b.remaining()
            + " bytes of raw_data, expected " + n * 4);
      }
      float[] out = new float[(int) n];
      b.asFloatBuffer().get(out);
      return out;
    }
    if (t.getFloatDataCount() != n) {
      throw new IllegalArgumentException(where + ": tensor '" + t.getName() + "' has " + t.getFloatDataCount()
          + " float_data values, expected " + n);
    }
    float[] out = new float[(int) n];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.getFloatData(i);
    }
    return out;
  }

  /** {@code t} (same name and dims) holding {@code values} as float32 raw_data. */
  static Onnx.TensorProto withFloat32(Onnx.TensorProto t, String name, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return t.toBuilder().setName(name).clearFloatData().setDataType(FLOAT).setRawData(ByteString.copyFrom(b)).build();
  }

  /** {@code t} (same dims) as float16 raw_data, values clamped to the FP16 range first. */
  static Onnx.TensorProto toFloat16(Onnx.TensorProto t, String name, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      b.putShort(2 * i, Half.fromFloat(clampToFp16Range(values[i])));
    }
    return t.toBuilder().setName(name).clearFloatData().setDataType(FLOAT16).setRawData(ByteString.copyFrom(b)).build();
  }

  /** Clamped to the FP16 range and rounded to FP16 precision, kept as float32. */
  static float[] clampAndRound(float[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = Half.round(clampToFp16Range(values[i]));
    }
    return out;
  }

  static Onnx.NodeProto castNode(String name, String in, String out, int to) {
    return Onnx.NodeProto.newBuilder().setName(name).setOpType("Cast").addInput(in).addOutput(out)
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("to").setType(Onnx.AttributeProto.AttributeType.INT)
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
