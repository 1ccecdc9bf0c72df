package dev.halfbisect.onnx;

import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fills in the element type (and, for simple cases, the shape) of node outputs that the model does
 * not declare, walking nodes in topological order. Rules cover the default-domain operators of
 * opsets 7-21 whose output type is not simply their first input's (casts, comparisons, index
 * producers, generators, quantization, control flow); every other operator, including those of
 * custom domains, takes the type of its first typed input, which is what the ONNX type constraints
 * of ordinary ops (elementwise, reductions, MatMul, Conv, normalizations, data movement) say.
 */
final class TypeInference {
  private static final Set<String> BOOL_OUT =
      Set.of(
          "Equal",
          "Less",
          "Greater",
          "LessOrEqual",
          "GreaterOrEqual",
          "Not",
          "And",
          "Or",
          "Xor",
          "IsNaN",
          "IsInf",
          "RegexFullMatch");
  private static final Set<String> INT64_OUT =
      Set.of("Shape", "Size", "ArgMax", "ArgMin", "NonZero", "NonMaxSuppression");

  private TypeInference() {}

  /** Types a Constant node declares through its value attribute; 0 when it has none. */
  static int constantType(Onnx.NodeProto node) {
    for (Onnx.AttributeProto a : node.getAttributeList()) {
      switch (a.getName()) {
        case "value":
          return a.getT().getDataType();
        case "sparse_value":
          return a.getSparseTensor().getValues().getDataType();
        case "value_float":
        case "value_floats":
          return ElementTypes.FLOAT;
        case "value_int":
        case "value_ints":
          return ElementTypes.INT64;
        case "value_string":
        case "value_strings":
          return ElementTypes.STRING;
        default:
          break;
      }
    }
    return ElementTypes.UNDEFINED;
  }

  /** Shape a Constant node declares, or null. */
  static long[] constantShape(Onnx.NodeProto node) {
    for (Onnx.AttributeProto a : node.getAttributeList()) {
      switch (a.getName()) {
        case "value":
          return TensorData.dims(a.getT());
        case "sparse_value":
          {
            List<Long> d = a.getSparseTensor().getDimsList();
            return d.stream().mapToLong(Long::longValue).toArray();
          }
        case "value_float":
        case "value_int":
        case "value_string":
          return new long[0];
        case "value_floats":
          return new long[] {a.getFloatsCount()};
        case "value_ints":
          return new long[] {a.getIntsCount()};
        case "value_strings":
          return new long[] {a.getStringsCount()};
        default:
          break;
      }
    }
    return null;
  }

  /**
   * Element type of output {@code j} of {@code node}, or 0 when no rule gives one.
   *
   * @param types known element types of values so far
   */
  static int outputType(Onnx.NodeProto node, int j, Map<String, Integer> types) {
    String op = node.getOpType();
    boolean defaultDomain = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
    if (defaultDomain) {
      if (BOOL_OUT.contains(op)) {
        return ElementTypes.BOOL;
      }
      if (INT64_OUT.contains(op)) {
        return ElementTypes.INT64;
      }
      switch (op) {
        case "Constant":
          return constantType(node);
        case "Cast":
          return intAttr(node, "to", ElementTypes.UNDEFINED);
        case "CastLike":
          return input(node, 1, types);
        case "TopK":
          return j == 1 ? ElementTypes.INT64 : input(node, 0, types);
        case "Unique":
          return j == 0 ? input(node, 0, types) : ElementTypes.INT64;
        case "MaxPool":
          return j == 1 ? ElementTypes.INT64 : input(node, 0, types);
        case "Dropout":
          return j == 1 ? ElementTypes.BOOL : input(node, 0, types);
        case "Where":
          return input(node, 1, types);
        case "OneHot":
          return input(node, 2, types);
        case "ConstantOfShape":
          {
            Onnx.AttributeProto v = attr(node, "value");
            return v != null ? v.getT().getDataType() : ElementTypes.FLOAT;
          }
        case "EyeLike":
        case "RandomNormalLike":
        case "RandomUniformLike":
        case "Bernoulli":
          return intAttr(node, "dtype", input(node, 0, types));
        case "RandomNormal":
        case "RandomUniform":
          return intAttr(node, "dtype", ElementTypes.FLOAT);
        case "Multinomial":
          return intAttr(node, "dtype", ElementTypes.INT32);
        case "QuantizeLinear":
          {
            int zp = input(node, 2, types);
            int declared = intAttr(node, "output_dtype", 0); // opset 21
            return zp != 0 ? zp : declared != 0 ? declared : ElementTypes.UINT8;
          }
        case "DequantizeLinear":
          {
            int scale = input(node, 1, types);
            return scale != 0 ? scale : ElementTypes.FLOAT;
          }
        case "DynamicQuantizeLinear":
          return j == 1 ? ElementTypes.FLOAT : ElementTypes.UINT8;
        case "MatMulInteger":
        case "ConvInteger":
          return ElementTypes.INT32;
        case "QLinearMatMul":
        case "QLinearConv":
          return input(node, 7, types);
        case "LayerNormalization":
          return j == 0 ? input(node, 0, types) : intAttr(node, "stash_type", 1);
        case "StringNormalizer":
          return ElementTypes.STRING;
        case "TfIdfVectorizer":
          return ElementTypes.FLOAT;
        case "ImageDecoder":
          return ElementTypes.UINT8;
        case "If":
          return subgraphOutputType(node, "then_branch", j);
        case "Loop":
          return subgraphOutputType(node, "body", j + 1);
        case "Scan":
          return subgraphOutputType(node, "body", j);
        default:
          break;
      }
    }
    // Type-preserving ops (the vast majority) and unknown/custom ops: first typed input.
    for (String in : node.getInputList()) {
      if (!in.isEmpty()) {
        Integer t = types.get(in);
        if (t != null && t != 0) {
          return t;
        }
      }
    }
    return ElementTypes.UNDEFINED;
  }

  private static int subgraphOutputType(Onnx.NodeProto node, String attrName, int outputIndex) {
    Onnx.AttributeProto a = attr(node, attrName);
    if (a == null || outputIndex >= a.getG().getOutputCount()) {
      return ElementTypes.UNDEFINED;
    }
    Onnx.TypeProto t = a.getG().getOutput(outputIndex).getType();
    return t.hasTensorType() ? t.getTensorType().getElemType() : ElementTypes.UNDEFINED;
  }

  private static int input(Onnx.NodeProto node, int i, Map<String, Integer> types) {
    if (i >= node.getInputCount() || node.getInput(i).isEmpty()) {
      return ElementTypes.UNDEFINED;
    }
    Integer t = types.get(node.getInput(i));
    return t == null ? ElementTypes.UNDEFINED : t;
  }

  static Onnx.AttributeProto attr(Onnx.NodeProto node, String name) {
    for (Onnx.AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  private static int intAttr(Onnx.NodeProto node, String name, int dflt) {
    Onnx.AttributeProto a = attr(node, name);
    return a == null ? dflt : (int) a.getI();
  }
}
