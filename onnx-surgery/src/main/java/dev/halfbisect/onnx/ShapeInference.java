package dev.halfbisect.onnx;

import dev.halfbisect.onnx.proto.Onnx;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Best-effort shapes of node outputs for the operators transformer and CNN graphs are made of, so
 * that tensors declared as graph inputs or outputs carry at least their rank (the ONNX checker
 * requires a shape on main-graph inputs and outputs). Dims are -1 where they depend on runtime
 * values; a null result means even the rank is unknown. Small integer constants (initializers and
 * Constant nodes) are used for Reshape targets and opset-13+ axes inputs.
 */
final class ShapeInference {
  /** Ops whose output 0 has the shape of input 0. */
  private static final Set<String> SAME_SHAPE =
      Set.of(
          "Identity",
          "Cast",
          "CastLike",
          "Relu",
          "LeakyRelu",
          "Sigmoid",
          "HardSigmoid",
          "Tanh",
          "Erf",
          "Exp",
          "Log",
          "Sqrt",
          "Reciprocal",
          "Neg",
          "Abs",
          "Floor",
          "Ceil",
          "Round",
          "Sign",
          "Sin",
          "Cos",
          "Softmax",
          "LogSoftmax",
          "Softplus",
          "Softsign",
          "Elu",
          "Selu",
          "Gelu",
          "Mish",
          "HardSwish",
          "Not",
          "IsNaN",
          "IsInf",
          "Clip",
          "Dropout",
          "LayerNormalization",
          "BatchNormalization",
          "InstanceNormalization",
          "Celu",
          "ThresholdedRelu",
          "Hardmax",
          "CumSum",
          "QuantizeLinear",
          "DequantizeLinear",
          "GroupNormalization",
          "RMSNormalization",
          "LpNormalization");

  /** Elementwise ops with numpy broadcasting over all inputs. */
  private static final Set<String> BROADCAST =
      Set.of(
          "Add",
          "Sub",
          "Mul",
          "Div",
          "Pow",
          "Max",
          "Min",
          "Sum",
          "Mean",
          "Equal",
          "Less",
          "Greater",
          "LessOrEqual",
          "GreaterOrEqual",
          "And",
          "Or",
          "Xor",
          "Where",
          "Mod",
          "BitShift",
          "BitwiseAnd",
          "BitwiseOr",
          "BitwiseXor",
          "PRelu");

  /** Reductions taking axes + keepdims. */
  private static final Set<String> REDUCE =
      Set.of(
          "ReduceMean",
          "ReduceSum",
          "ReduceMax",
          "ReduceMin",
          "ReduceProd",
          "ReduceL1",
          "ReduceL2",
          "ReduceLogSum",
          "ReduceLogSumExp",
          "ReduceSumSquare");

  private ShapeInference() {}

  /**
   * Shape of output {@code j}, or null when unknown.
   *
   * @param shapes known shapes so far
   * @param ints values of small integer constants by name
   */
  static long[] outputShape(
      Onnx.NodeProto node, int j, Map<String, long[]> shapes, Map<String, long[]> ints) {
    if (node.getInputCount() == 0) {
      return null;
    }
    String op = node.getOpType();
    long[] x = shape(node, 0, shapes);
    if (SAME_SHAPE.contains(op)) {
      return j == 0 || op.equals("Dropout") ? x : null;
    }
    if (j > 0 && !op.equals("Split") && !op.equals("TopK")) {
      return null;
    }
    if (BROADCAST.contains(op)) {
      return broadcastAll(node, shapes);
    }
    if (REDUCE.contains(op)) {
      return reduce(node, x, ints);
    }
    switch (op) {
      case "MatMul":
        return matMul(x, shape(node, 1, shapes));
      case "Gemm":
        return gemm(node, x, shape(node, 1, shapes));
      case "Transpose":
        return transpose(node, x);
      case "Gather":
        return gather(node, x, shape(node, 1, shapes));
      case "Unsqueeze":
        return unsqueeze(x, axesOf(node, ints));
      case "Squeeze":
        return squeeze(node, x, axesOf(node, ints));
      case "Reshape":
        return reshape(node, x, shapes, ints);
      case "Flatten":
        return flatten(node, x);
      case "Concat":
        return concat(node, x, shapes);
      case "Shape":
        return x == null ? null : new long[] {x.length};
      case "Size":
        return new long[0];
      case "Slice":
      case "Split":
      case "Pad":
      case "Tile":
      case "Resize":
      case "TopK":
        return x == null ? null : unknownDims(x.length);
      case "Expand":
        return expand(node, x, shapes, ints);
      case "Conv":
      case "MaxPool":
      case "AveragePool":
      case "ConvTranspose":
        return convOrPool(node, x, shapes);
      case "GlobalAveragePool":
      case "GlobalMaxPool":
        return globalPool(x);
      default:
        return null;
    }
  }

  /** Numpy broadcast over all inputs; null when one is unknown or they are incompatible. */
  private static long[] broadcastAll(Onnx.NodeProto node, Map<String, long[]> shapes) {
    long[] acc = null;
    for (int i = 0; i < node.getInputCount(); i++) {
      long[] s = shape(node, i, shapes);
      if (s == null) {
        return null;
      }
      acc = acc == null ? s : broadcast(acc, s);
      if (acc == null) {
        return null;
      }
    }
    return acc;
  }

  private static long[] gemm(Onnx.NodeProto node, long[] a, long[] b) {
    if (a == null || b == null || a.length != 2 || b.length != 2) {
      return null;
    }
    return new long[] {
      intAttr(node, "transA", 0) == 0 ? a[0] : a[1], intAttr(node, "transB", 0) == 0 ? b[1] : b[0]
    };
  }

  /** {@code perm}, or the reversed axes without it. */
  private static long[] transpose(Onnx.NodeProto node, long[] x) {
    if (x == null) {
      return null;
    }
    long[] perm = intsAttr(node, "perm");
    long[] out = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      int p = perm != null && perm.length == x.length ? (int) perm[i] : x.length - 1 - i;
      if (p < 0 || p >= x.length) {
        return null;
      }
      out[i] = x[p];
    }
    return out;
  }

  /** {@code x}'s dims with the axis replaced by the indices' dims. */
  private static long[] gather(Onnx.NodeProto node, long[] x, long[] idx) {
    if (x == null || idx == null || x.length == 0) {
      return null;
    }
    int axis = axis(intAttr(node, "axis", 0), x.length);
    if (axis < 0) {
      return null;
    }
    long[] out = new long[x.length - 1 + idx.length];
    int k = 0;
    for (int i = 0; i < axis; i++) {
      out[k++] = x[i];
    }
    for (long d : idx) {
      out[k++] = d;
    }
    for (int i = axis + 1; i < x.length; i++) {
      out[k++] = x[i];
    }
    return out;
  }

  private static long[] unsqueeze(long[] x, long[] axes) {
    if (x == null || axes == null) {
      return null;
    }
    int rank = x.length + axes.length;
    boolean[] inserted = new boolean[rank];
    for (long a : axes) {
      int ax = axis((int) a, rank);
      if (ax < 0 || inserted[ax]) {
        return null;
      }
      inserted[ax] = true;
    }
    long[] out = new long[rank];
    for (int i = 0, k = 0; i < rank; i++) {
      out[i] = inserted[i] ? 1 : x[k++];
    }
    return out;
  }

  /** The listed axes dropped, or without axes every dim of 1 (unknown if any dim is unknown). */
  private static long[] squeeze(Onnx.NodeProto node, long[] x, long[] axes) {
    if (x == null) {
      return null;
    }
    boolean[] drop = new boolean[x.length];
    if (axes == null || axes.length == 0) {
      if (node.getInputCount() > 1 && !node.getInput(1).isEmpty() && axes == null) {
        return null; // axes from a runtime tensor
      }
      for (int i = 0; i < x.length; i++) {
        if (x[i] == -1) {
          return null;
        }
        drop[i] = x[i] == 1;
      }
    } else {
      for (long a : axes) {
        int ax = axis((int) a, x.length);
        if (ax < 0) {
          return null;
        }
        drop[ax] = true;
      }
    }
    return keep(x, drop);
  }

  private static long[] flatten(Onnx.NodeProto node, long[] x) {
    if (x == null) {
      return null;
    }
    int axis = axis(intAttr(node, "axis", 1), x.length + 1);
    return new long[] {product(x, 0, axis), product(x, axis, x.length)};
  }

  /** Input 0's dims with the axis summed over all inputs (-1 when one is unknown). */
  private static long[] concat(Onnx.NodeProto node, long[] x, Map<String, long[]> shapes) {
    if (x == null) {
      return null;
    }
    long[] out = x.clone();
    int axis = axis(intAttr(node, "axis", 0), out.length);
    if (axis < 0) {
      return null;
    }
    for (int i = 1; i < node.getInputCount(); i++) {
      long[] s = shape(node, i, shapes);
      if (s == null || s.length != out.length) {
        return null;
      }
      out[axis] = out[axis] < 0 || s[axis] < 0 ? -1 : out[axis] + s[axis];
    }
    return out;
  }

  /** Broadcast to a constant target; with a runtime target only the rank, where its length is. */
  private static long[] expand(
      Onnx.NodeProto node, long[] x, Map<String, long[]> shapes, Map<String, long[]> ints) {
    long[] target = ints.get(input(node, 1));
    if (target != null && x != null) {
      return broadcast(x, target);
    }
    long[] ts = shape(node, 1, shapes);
    if (ts != null && ts.length == 1 && ts[0] >= 0 && x != null) {
      return unknownDims((int) Math.max(ts[0], x.length));
    }
    return null;
  }

  /** Batch kept; channels from a Conv's weights or a pool's input; spatial dims unknown. */
  private static long[] convOrPool(Onnx.NodeProto node, long[] x, Map<String, long[]> shapes) {
    if (x == null) {
      return null;
    }
    String op = node.getOpType();
    long[] out = unknownDims(x.length);
    out[0] = x[0];
    if (op.startsWith("Conv")) {
      long[] w = shape(node, 1, shapes);
      out[1] = w == null || w.length < 2 ? -1 : op.equals("Conv") ? w[0] : -1;
    } else {
      out[1] = x[1];
    }
    return out;
  }

  private static long[] globalPool(long[] x) {
    if (x == null) {
      return null;
    }
    long[] out = x.clone();
    for (int i = 2; i < out.length; i++) {
      out[i] = 1;
    }
    return out;
  }

  /** A shape of {@code rank} unknown dims. */
  private static long[] unknownDims(int rank) {
    long[] out = new long[rank];
    Arrays.fill(out, -1);
    return out;
  }

  private static long[] reduce(Onnx.NodeProto node, long[] x, Map<String, long[]> ints) {
    if (x == null) {
      return null;
    }
    long[] axes = intsAttr(node, "axes");
    if (axes == null && node.getInputCount() > 1 && !node.getInput(1).isEmpty()) {
      axes = ints.get(node.getInput(1));
      if (axes == null) {
        return null;
      }
    }
    boolean keep = intAttr(node, "keepdims", 1) != 0;
    boolean[] reduced = new boolean[x.length];
    if (axes == null || axes.length == 0) {
      if (intAttr(node, "noop_with_empty_axes", 0) != 0) {
        return x;
      }
      Arrays.fill(reduced, true);
    } else {
      for (long a : axes) {
        int ax = axis((int) a, x.length);
        if (ax < 0) {
          return null;
        }
        reduced[ax] = true;
      }
    }
    if (!keep) {
      return keep(x, reduced);
    }
    long[] out = x.clone();
    for (int i = 0; i < out.length; i++) {
      if (reduced[i]) {
        out[i] = 1;
      }
    }
    return out;
  }

  private static long[] reshape(
      Onnx.NodeProto node, long[] x, Map<String, long[]> shapes, Map<String, long[]> ints) {
    long[] target = ints.get(input(node, 1));
    if (target == null) {
      long[] ts = shape(node, 1, shapes);
      if (ts == null || ts.length != 1 || ts[0] < 0) {
        return null;
      }
      return unknownDims((int) ts[0]);
    }
    boolean allowZero = intAttr(node, "allowzero", 0) != 0;
    long[] out = new long[target.length];
    int inferred = -1;
    long known = 1;
    boolean allKnown = x != null;
    for (int i = 0; i < target.length; i++) {
      long d = target[i];
      if (d == 0 && !allowZero) {
        d = x != null && i < x.length ? x[i] : -1;
        if (x == null || i >= x.length) {
          allKnown = false;
        }
      }
      if (target[i] == -1) {
        inferred = i;
        out[i] = -1;
        continue;
      }
      out[i] = d;
      if (d < 0) {
        allKnown = false;
      } else {
        known *= d;
      }
    }
    if (inferred >= 0 && allKnown && known > 0) {
      long total = product(x, 0, x.length);
      if (total >= 0) {
        out[inferred] = total / known;
      }
    }
    return out;
  }

  private static long[] matMul(long[] a, long[] b) {
    if (a == null || b == null || a.length == 0 || b.length == 0) {
      return null;
    }
    long[] aa = a.length == 1 ? new long[] {1, a[0]} : a;
    long[] bb = b.length == 1 ? new long[] {b[0], 1} : b;
    long[] batch = broadcast(Arrays.copyOf(aa, aa.length - 2), Arrays.copyOf(bb, bb.length - 2));
    if (batch == null) {
      return null;
    }
    int extra = (a.length == 1 ? 0 : 1) + (b.length == 1 ? 0 : 1);
    long[] out = Arrays.copyOf(batch, batch.length + extra);
    int k = batch.length;
    if (a.length != 1) {
      out[k++] = aa[aa.length - 2];
    }
    if (b.length != 1) {
      out[k] = bb[bb.length - 1];
    }
    return out;
  }

  /** Numpy broadcast of two shapes (-1 = unknown dim), or null when they are incompatible. */
  static long[] broadcast(long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x == y) {
        out[i] = x;
      } else if (x == 1) {
        out[i] = y;
      } else if (y == 1) {
        out[i] = x;
      } else if (x == -1) {
        out[i] = y; // unknown vs known n > 1: must be n (or 1) for a valid graph
      } else if (y == -1) {
        out[i] = x;
      } else {
        return null;
      }
    }
    return out;
  }

  private static long[] keep(long[] x, boolean[] drop) {
    int n = 0;
    for (boolean d : drop) {
      if (!d) {
        n++;
      }
    }
    long[] out = new long[n];
    for (int i = 0, k = 0; i < x.length; i++) {
      if (!drop[i]) {
        out[k++] = x[i];
      }
    }
    return out;
  }

  private static long product(long[] x, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      if (x[i] < 0) {
        return -1;
      }
      p *= x[i];
    }
    return p;
  }

  private static long[] axesOf(Onnx.NodeProto node, Map<String, long[]> ints) {
    long[] axes = intsAttr(node, "axes");
    if (axes != null) {
      return axes;
    }
    if (node.getInputCount() > 1 && !node.getInput(1).isEmpty()) {
      return ints.get(node.getInput(1));
    }
    return null;
  }

  private static int axis(int a, int rank) {
    int ax = a < 0 ? a + rank : a;
    return ax >= 0 && ax < rank ? ax : -1;
  }

  private static String input(Onnx.NodeProto node, int i) {
    return i < node.getInputCount() ? node.getInput(i) : "";
  }

  private static long[] shape(Onnx.NodeProto node, int i, Map<String, long[]> shapes) {
    String in = input(node, i);
    return in.isEmpty() ? null : shapes.get(in);
  }

  private static int intAttr(Onnx.NodeProto node, String name, int dflt) {
    Onnx.AttributeProto a = TypeInference.attr(node, name);
    return a == null ? dflt : (int) a.getI();
  }

  private static long[] intsAttr(Onnx.NodeProto node, String name) {
    Onnx.AttributeProto a = TypeInference.attr(node, name);
    if (a == null) {
      return null;
    }
    List<Long> v = a.getIntsList();
    return v.stream().mapToLong(Long::longValue).toArray();
  }
}
