package dev.halfbisect.bisect.testing;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The few ONNX operators {@link InterpreterBackend} interprets, computed in float32: elementwise
 * ops with numpy broadcasting, Cast, MatMul {@code [.., m, k] x [k, n]}, ReduceMean and Softmax
 * over the last axis. Each op has one output.
 */
final class InterpreterOps {
  private InterpreterOps() {}

  static Value eval(Onnx.NodeProto n, List<Value> a) {
    switch (n.getOpType()) {
      case "Add":
        return binary(a.get(0), a.get(1), (x, y) -> x + y);
      case "Sub":
        return binary(a.get(0), a.get(1), (x, y) -> x - y);
      case "Mul":
        return binary(a.get(0), a.get(1), (x, y) -> x * y);
      case "Div":
        return binary(a.get(0), a.get(1), (x, y) -> x / y);
      case "Pow":
        return binary(a.get(0), a.get(1), Math::pow);
      case "Relu":
        return unary(a.get(0), x -> Math.max(0, x));
      case "Tanh":
        return unary(a.get(0), Math::tanh);
      case "Sqrt":
        return unary(a.get(0), Math::sqrt);
      case "Exp":
        return unary(a.get(0), Math::exp);
      case "Neg":
        return unary(a.get(0), x -> -x);
      case "Erf":
        return unary(a.get(0), InterpreterOps::erf);
      case "Identity":
        return a.get(0);
      case "Cast":
        return cast(n, a.get(0));
      case "Constant":
        return Value.of(
            n.getAttributeList().stream()
                .filter(x -> x.getName().equals("value"))
                .findFirst()
                .orElseThrow(
                    () -> new IllegalArgumentException("Constant " + n.getName() + " has no value"))
                .getT());
      case "MatMul":
        return matmul(a.get(0), a.get(1));
      case "ReduceMean":
        return reduceMeanLast(a.get(0));
      case "Softmax":
        return softmaxLast(a.get(0));
      default:
        throw new IllegalArgumentException(
            "the interpreter backend has no op " + n.getOpType() + " (node " + n.getName() + ")");
    }
  }

  /**
   * Cast to the attribute {@code to}: values become what that dtype can hold (binary16 rounding,
   * integer truncation).
   */
  static Value cast(Onnx.NodeProto n, Value x) {
    long to =
        n.getAttributeList().stream()
            .filter(at -> at.getName().equals("to"))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException("Cast " + n.getName() + " has no 'to'"))
            .getI();
    DType dtype = DType.fromOnnxCode((int) to);
    return new Value(
        dtype, x.shape(), Tensor.fromFloats(dtype, x.shape(), x.data()).toFloatArray());
  }

  static Value unary(Value x, DoubleUnaryOperator f) {
    float[] r = new float[x.data().length];
    for (int i = 0; i < r.length; i++) {
      r[i] = (float) f.applyAsDouble(x.data()[i]);
    }
    return Value.floats(x.shape(), r);
  }

  static Value binary(Value x, Value y, DoubleBinaryOperator f) {
    int rank = Math.max(x.shape().length, y.shape().length);
    long[] xs = pad(x.shape(), rank);
    long[] ys = pad(y.shape(), rank);
    long[] out = new long[rank];
    for (int i = 0; i < rank; i++) {
      if (xs[i] != ys[i] && xs[i] != 1 && ys[i] != 1) {
        throw new IllegalArgumentException(
            "cannot broadcast "
                + Tensor.shapeToString(x.shape())
                + " with "
                + Tensor.shapeToString(y.shape()));
      }
      out[i] = Math.max(xs[i], ys[i]);
    }
    int size = 1;
    for (long d : out) {
      size *= (int) d;
    }
    float[] r = new float[size];
    int[] idx = new int[rank];
    for (int k = 0; k < size; k++) {
      int rem = k;
      for (int i = rank - 1; i >= 0; i--) {
        idx[i] = (int) (rem % out[i]);
        rem /= (int) out[i];
      }
      r[k] = (float) f.applyAsDouble(x.data()[offset(idx, xs)], y.data()[offset(idx, ys)]);
    }
    return Value.floats(out, r);
  }

  private static long[] pad(long[] s, int rank) {
    long[] p = new long[rank];
    java.util.Arrays.fill(p, 1);
    System.arraycopy(s, 0, p, rank - s.length, s.length);
    return p;
  }

  private static int offset(int[] idx, long[] shape) {
    int off = 0;
    for (int i = 0; i < shape.length; i++) {
      off = off * (int) shape[i] + (shape[i] == 1 ? 0 : idx[i]);
    }
    return off;
  }

  /** [.., m, k] x [k, n]. */
  static Value matmul(Value x, Value w) {
    long[] s = x.shape();
    int k = (int) s[s.length - 1];
    int n = (int) w.shape()[1];
    int rows = x.data().length / k;
    float[] r = new float[rows * n];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < n; j++) {
        float acc = 0;
        for (int t = 0; t < k; t++) {
          acc += x.data()[i * k + t] * w.data()[t * n + j];
        }
        r[i * n + j] = acc;
      }
    }
    long[] out = s.clone();
    out[out.length - 1] = n;
    return Value.floats(out, r);
  }

  static Value reduceMeanLast(Value x) {
    long[] s = x.shape();
    int k = (int) s[s.length - 1];
    int rows = x.data().length / k;
    float[] r = new float[rows];
    for (int i = 0; i < rows; i++) {
      float acc = 0;
      for (int t = 0; t < k; t++) {
        acc += x.data()[i * k + t];
      }
      r[i] = acc / k;
    }
    long[] out = s.clone();
    out[out.length - 1] = 1;
    return Value.floats(out, r);
  }

  static Value softmaxLast(Value x) {
    long[] s = x.shape();
    int k = (int) s[s.length - 1];
    int rows = x.data().length / k;
    float[] r = new float[x.data().length];
    for (int i = 0; i < rows; i++) {
      float max = Float.NEGATIVE_INFINITY;
      for (int t = 0; t < k; t++) {
        max = Math.max(max, x.data()[i * k + t]);
      }
      float sum = 0;
      for (int t = 0; t < k; t++) {
        r[i * k + t] = (float) Math.exp(x.data()[i * k + t] - max);
        sum += r[i * k + t];
      }
      for (int t = 0; t < k; t++) {
        r[i * k + t] /= sum;
      }
    }
    return Value.floats(s, r);
  }

  /** erf with absolute error below 1.2e-7 (Numerical Recipes erfc Chebyshev form). */
  static double erf(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double ans =
        t
            * Math.exp(
                -z * z
                    - 1.26551223
                    + t
                        * (1.00002368
                            + t
                                * (0.37409196
                                    + t
                                        * (0.09678418
                                            + t
                                                * (-0.18628806
                                                    + t
                                                        * (0.27886807
                                                            + t
                                                                * (-1.13520398
                                                                    + t
                                                                        * (1.48851587
                                                                            + t
                                                                                * (-0.82215223
                                                                                    + t
                                                                                        * 0.17087277)))))))));
    return x >= 0 ? 1 - ans : ans - 1;
  }
}
