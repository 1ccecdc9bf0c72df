package dev.halfbisect.bisect;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Models whose FP16 failure is known by construction, and contexts over {@link InterpreterBackend}.
 */
final class TestModels {
  static final int SEQ = 4;
  static final int HIDDEN = 8;

  private TestModels() {}

  /**
   * Names of the two planted nodes in block {@code k}: the scale-up that overflows, and its
   * inverse.
   */
  static String plantUp(int k) {
    return "b" + k + "/plant_up";
  }

  static String plantDown(int k) {
    return "b" + k + "/plant_down";
  }

  /**
   * A stack of transformer-like blocks on x [1, SEQ, HIDDEN]: MatMul + bias, decomposed LayerNorm,
   * Erf-GELU, residual Add. Block {@code plant} (or none when negative) multiplies its residual
   * stream by 3e5 (FP16 overflow) and divides it back, so the scale-up and the divide must be FP32.
   */
  static ModelGraph transformer(int blocks, int plant) {
    TinyGraph t = new TinyGraph();
    Random rnd = new Random(7);
    t.input("x", 1, SEQ, HIDDEN);
    String h = "x";
    for (int b = 0; b < blocks; b++) {
      String p = "b" + b + "/";
      String w = t.randomMatrix(p + "W", HIDDEN, HIDDEN, 0.35f, rnd);
      String mm = t.node("MatMul", p + "matmul", h, w);
      String bias = t.scalar(0.05f);
      String lin = t.node("Add", p + "bias", mm, bias);
      String ln = layerNorm(t, p + "ln/", lin);
      String gelu = gelu(t, p + "gelu/", ln);
      h = t.node("Add", p + "residual", h, gelu);
      if (b == plant) {
        String up = t.node("Mul", plantUp(b), h, t.scalar(3e5f));
        h = t.node("Div", plantDown(b), up, t.scalar(3e5f));
      }
    }
    String out = t.node("Identity", "out", h);
    t.output(out);
    return t.graph("transformer" + blocks + (plant >= 0 ? "-plant" + plant : ""));
  }

  static String layerNorm(TinyGraph t, String p, String x) {
    String mean = t.node("ReduceMean", p + "mean", x);
    String d = t.node("Sub", p + "sub", x, mean);
    String sq = t.node("Pow", p + "pow", d, t.scalar(2f));
    String var = t.node("ReduceMean", p + "var", sq);
    String ve = t.node("Add", p + "eps", var, t.scalar(1e-5f));
    String sd = t.node("Sqrt", p + "sqrt", ve);
    return t.node("Div", p + "div", d, sd);
  }

  static String gelu(TinyGraph t, String p, String x) {
    String s = t.node("Div", p + "div", x, t.scalar(1.4142135f));
    String e = t.node("Erf", p + "erf", s);
    String a = t.node("Add", p + "add", e, t.scalar(1f));
    String m = t.node("Mul", p + "mul", x, a);
    return t.node("Mul", p + "half", m, t.scalar(0.5f));
  }

  static Map<String, Tensor> sample(long seed, float lo, float hi, String name, long... shape) {
    Random r = new Random(seed);
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (hi - lo) * r.nextFloat();
    }
    return Map.of(name, Tensor.ofFloats(shape, v));
  }

  static List<Map<String, Tensor>> transformerSamples(int n) {
    return java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> sample(100 + i, -1f, 1f, "x", 1, SEQ, HIDDEN))
        .toList();
  }

  static BisectContext.Builder context(
      ModelGraph g, InterpreterBackend b, List<Map<String, Tensor>> samples) {
    return BisectContext.builder(g, b, BuildOptions.of("fp32"), b, BuildOptions.of("fp16-emulated"))
        .samples(samples);
  }
}
