package dev.halfbisect.onnx;

import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What is known of a graph's values, filled in as its nodes are visited in topological order: the
 * element type, the shape (-1 for unknown or symbolic dims) and the values of small integer
 * constants (Reshape targets, axes inputs). Declared types and shapes come first and are kept;
 * {@link #node} infers the rest with the rules of the package's type and shape inference. {@link
 * GraphIndex} fills one from a whole graph; the builder fills one node by node as it builds, so
 * both give the same types and shapes.
 */
public final class ValueInference {
  private final Map<String, Integer> types;
  private final Map<String, long[]> shapes;
  private final Map<String, long[]> ints = new HashMap<>();

  public ValueInference() {
    this(16);
  }

  ValueInference(int expectedValues) {
    types = new HashMap<>(expectedValues);
    shapes = new HashMap<>(expectedValues);
  }

  /**
   * An initializer: its element type, dims and, when it holds a few inline int32/int64 values,
   * those values.
   */
  public void initializer(Onnx.TensorProto t) {
    types.put(t.getName(), t.getDataType());
    shapes.put(t.getName(), TensorData.dims(t));
    rememberSmallInts(t.getName(), t);
  }

  /**
   * A declared value (graph input or output, value_info, an output type given by hand): its element
   * type unless 0, its shape unless null. Earlier declarations win.
   */
  public void declare(String name, int elementType, long[] shape) {
    if (elementType != ElementTypes.UNDEFINED) {
      types.putIfAbsent(name, elementType);
    }
    if (shape != null) {
      shapes.putIfAbsent(name, shape.clone());
    }
  }

  /**
   * Infers the outputs of {@code node} not declared, from what is known of its inputs; element
   * types no rule gives stay unknown (0).
   */
  public void node(Onnx.NodeProto node) {
    boolean constant =
        node.getOpType().equals("Constant")
            && (node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx"));
    for (int j = 0; j < node.getOutputCount(); j++) {
      String o = node.getOutput(j);
      if (o.isEmpty()) {
        continue;
      }
      if (!types.containsKey(o)) {
        int t = TypeInference.outputType(node, j, types);
        if (t != ElementTypes.UNDEFINED) {
          types.put(o, t);
        }
      }
      if (constant && j == 0) {
        rememberConstantInts(o, node);
      }
      if (!shapes.containsKey(o)) {
        long[] s =
            constant
                ? TypeInference.constantShape(node)
                : ShapeInference.outputShape(node, j, shapes, ints);
        if (s != null) {
          shapes.put(o, s);
        }
      }
    }
  }

  /** The ONNX element type number of {@code name}; empty when unknown. */
  public OptionalInt elementType(String name) {
    Integer t = types.get(name);
    return t == null || t == ElementTypes.UNDEFINED ? OptionalInt.empty() : OptionalInt.of(t);
  }

  /** The known shape of {@code name} (-1 for unknown dims); empty when even the rank is unknown. */
  public Optional<long[]> shape(String name) {
    long[] s = shapes.get(name);
    return s == null ? Optional.empty() : Optional.of(s.clone());
  }

  /**
   * A value info declaring {@code name} with its element type and known shape (unknown dims without
   * a value), suitable as a graph input or output.
   *
   * @throws IllegalStateException when its element type is unknown
   */
  public Onnx.ValueInfoProto valueInfo(String name) {
    OptionalInt code = elementType(name);
    if (code.isEmpty()) {
      throw new IllegalStateException("element type of '" + name + "' is unknown");
    }
    Onnx.TypeProto.Tensor.Builder tt =
        Onnx.TypeProto.Tensor.newBuilder().setElemType(code.getAsInt());
    long[] s = shapes.get(name);
    if (s != null) {
      tt.setShape(shapeProto(s));
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(Onnx.TypeProto.newBuilder().setTensorType(tt))
        .build();
  }

  /** A shape with a dim value where known, an empty dim (unknown) where -1. */
  static Onnx.TensorShapeProto shapeProto(long[] s) {
    Onnx.TensorShapeProto.Builder sb = Onnx.TensorShapeProto.newBuilder();
    for (long d : s) {
      Onnx.TensorShapeProto.Dimension.Builder db = Onnx.TensorShapeProto.Dimension.newBuilder();
      if (d >= 0) {
        db.setDimValue(d);
      }
      sb.addDim(db);
    }
    return sb.build();
  }

  /** The element type map, for the index's own lookups (null or 0: unknown). */
  Integer rawType(String name) {
    return types.get(name);
  }

  /** The shape without a copy, or null. */
  long[] rawShape(String name) {
    return shapes.get(name);
  }

  /** Keeps the values of small inline int64/int32 tensors: Reshape targets and axes inputs. */
  private void rememberSmallInts(String name, Onnx.TensorProto t) {
    int type = t.getDataType();
    if ((type != ElementTypes.INT64 && type != ElementTypes.INT32)
        || ExternalDataRef.isExternal(t)) {
      return;
    }
    long n = TensorData.elementCount(t);
    if (n > 16) {
      return;
    }
    try {
      ByteBuffer b = TensorData.rawBytes(t, null);
      long[] v = new long[(int) n];
      for (int i = 0; i < n; i++) {
        v[i] = type == ElementTypes.INT64 ? b.getLong(8 * i) : b.getInt(4 * i);
      }
      ints.put(name, v);
    } catch (MalformedModelException e) {
      // Data that does not match the shape is reported when someone reads it; shapes just stay
      // unknown.
    }
  }

  private void rememberConstantInts(String output, Onnx.NodeProto node) {
    for (Onnx.AttributeProto a : node.getAttributeList()) {
      switch (a.getName()) {
        case "value":
          rememberSmallInts(output, a.getT());
          break;
        case "value_int":
          ints.put(output, new long[] {a.getI()});
          break;
        case "value_ints":
          if (a.getIntsCount() <= 16) {
            ints.put(output, a.getIntsList().stream().mapToLong(Long::longValue).toArray());
          }
          break;
        default:
          break;
      }
    }
  }
}
