package dev.halfbisect.onnx.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GraphBuilderTest {

  private static final float[] X = {1f, -2f, 3.5f, 0.25f, -0.75f, 2f, 4f, -1f};

  @ParameterizedTest
  @ValueSource(ints = {13, 17, 18})
  void decomposedLayerNormMatchesJavaReference(int opset) {
    GraphBuilder g = GraphBuilder.create("ln", opset);
    String x = g.input("x", DType.FLOAT32, 2, 4);
    String gamma = g.initializer("gamma", Tensor.ofFloats(new long[] {4}, 1f, 2f, 0.5f, -1f));
    String beta = g.initializer("beta", Tensor.ofFloats(new long[] {4}, 0f, 0.1f, -0.2f, 3f));
    g.output(g.layerNormDecomposed(x, gamma, beta, 1e-5f));
    Onnx.ModelProto m = g.buildProto();
    float[] y = single(OrtTestRunner.run(m, Map.of("x", Tensor.ofFloats(new long[] {2, 4}, X))));
    assertThat(y)
        .containsExactly(
            layerNorm(X, 4, new float[] {1f, 2f, 0.5f, -1f}, new float[] {0f, 0.1f, -0.2f, 3f}),
            within(1e-5f));
    assertThat(
            m.getGraph().getNodeList().stream()
                .map(Onnx.NodeProto::getOpType)
                .collect(Collectors.toList()))
        .containsExactly(
            "ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add");
    Onnx.NodeProto firstMean = m.getGraph().getNode(0);
    if (opset >= 18) {
      assertThat(firstMean.getInputCount()).isEqualTo(2);
    } else {
      assertThat(firstMean.getInputCount()).isEqualTo(1);
      assertThat(firstMean.getAttributeList()).anyMatch(a -> a.getName().equals("axes"));
    }
  }

  @Test
  void fusedLayerNormMatchesDecomposed() {
    GraphBuilder g = GraphBuilder.create("ln", 17);
    String x = g.input("x", DType.FLOAT32, 2, 4);
    g.output(g.layerNorm(x, 4, 1e-5f, true));
    Onnx.ModelProto m = g.buildProto();
    assertThat(m.getGraph().getNode(0).getOpType()).isEqualTo("LayerNormalization");
    float[] y = single(OrtTestRunner.run(m, Map.of("x", Tensor.ofFloats(new long[] {2, 4}, X))));
    assertThat(y)
        .containsExactly(layerNorm(X, 4, new float[] {1, 1, 1, 1}, new float[4]), within(1e-5f));
    assertThatThrownBy(() -> GraphBuilder.create("old", 13).layerNormFused("a", "b", "c", 1e-5f))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("opset >= 17");
  }

  @Test
  void geluVariantsMatchJava() {
    GraphBuilder g = GraphBuilder.create("gelu", 13);
    String x = g.input("x", DType.FLOAT32, 8);
    g.output(g.geluErf(x)).output(g.geluTanh(x));
    Map<String, float[]> out =
        OrtTestRunner.run(g.buildProto(), Map.of("x", Tensor.ofFloats(new long[] {8}, X)));
    float[][] ys = out.values().toArray(new float[0][]);
    for (int i = 0; i < X.length; i++) {
      double v = X[i];
      double erfGelu = v * 0.5 * (1 + erf(v / Math.sqrt(2)));
      double tanhGelu =
          0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
      assertThat((double) ys[0][i]).isCloseTo(erfGelu, within(1e-5));
      assertThat((double) ys[1][i]).isCloseTo(tanhGelu, within(1e-5));
    }
    // the two differ visibly somewhere: they are not the same graph
    assertThat(ys[0]).isNotEqualTo(ys[1]);
  }

  @Test
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  void linearAndAttentionMatchJavaReference() {
    int seq = 3;
    int d = 4;
    int heads = 2;
    GraphBuilder g = GraphBuilder.create("attn", 13).seed(7);
    String x = g.dynamicInput("x", DType.FLOAT32, "batch", seq, d);
    String y;
    try (GraphBuilder.Scope s = g.scope("/blocks/blocks.5/attn")) {
      y = g.attention(x, d, heads, null);
    }
    g.output(y, "y");
    Onnx.ModelProto m = g.buildProto();
    float[] xs = new float[2 * seq * d];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) Math.sin(i * 0.7);
    }
    float[] got =
        single(OrtTestRunner.run(m, Map.of("x", Tensor.ofFloats(new long[] {2, seq, d}, xs))));
    String p = "blocks.blocks.5.attn.";
    float[] want = new float[xs.length];
    for (int b = 0; b < 2; b++) {
      float[] xb = java.util.Arrays.copyOfRange(xs, b * seq * d, (b + 1) * seq * d);
      float[] q =
          lin(
              xb,
              seq,
              d,
              d,
              OrtTestRunner.initializerFloats(m, p + "q.weight"),
              OrtTestRunner.initializerFloats(m, p + "q.bias"));
      float[] k =
          lin(
              xb,
              seq,
              d,
              d,
              OrtTestRunner.initializerFloats(m, p + "k.weight"),
              OrtTestRunner.initializerFloats(m, p + "k.bias"));
      float[] v =
          lin(
              xb,
              seq,
              d,
              d,
              OrtTestRunner.initializerFloats(m, p + "v.weight"),
              OrtTestRunner.initializerFloats(m, p + "v.bias"));
      int dh = d / heads;
      float[] ctx = new float[seq * d];
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < seq; i++) {
          double[] sc = new double[seq];
          double mx = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < seq; j++) {
            double s = 0;
            for (int c = 0; c < dh; c++) {
              s += q[i * d + h * dh + c] * k[j * d + h * dh + c];
            }
            sc[j] = s / Math.sqrt(dh);
            mx = Math.max(mx, sc[j]);
          }
          double sum = 0;
          for (int j = 0; j < seq; j++) {
            sc[j] = Math.exp(sc[j] - mx);
            sum += sc[j];
          }
          for (int c = 0; c < dh; c++) {
            double acc = 0;
            for (int j = 0; j < seq; j++) {
              acc += sc[j] / sum * v[j * d + h * dh + c];
            }
            ctx[i * d + h * dh + c] = (float) acc;
          }
        }
      }
      float[] o =
          lin(
              ctx,
              seq,
              d,
              d,
              OrtTestRunner.initializerFloats(m, p + "o.weight"),
              OrtTestRunner.initializerFloats(m, p + "o.bias"));
      System.arraycopy(o, 0, want, b * seq * d, o.length);
    }
    assertThat(got).containsExactly(want, within(1e-5f));
    List<String> names =
        m.getGraph().getNodeList().stream()
            .map(Onnx.NodeProto::getName)
            .collect(Collectors.toList());
    assertThat(names)
        .contains(
            "/blocks/blocks.5/attn/q/MatMul",
            "/blocks/blocks.5/attn/MatMul",
            "/blocks/blocks.5/attn/MatMul_1",
            "/blocks/blocks.5/attn/Softmax",
            "/blocks/blocks.5/attn/o/Add");
    assertThat(names).doesNotHaveDuplicates().allMatch(n -> !n.isEmpty());
    assertThat(
            m.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam())
        .isEqualTo("batch");
    assertThat(m.getGraph().getOutput(0).getName()).isEqualTo("y");
  }

  @Test
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  void convBnReluMatchesJavaReference() {
    GraphBuilder g = GraphBuilder.create("cnn", 13).seed(3);
    String x = g.input("x", DType.FLOAT32, 1, 2, 4, 4);
    String y;
    try (GraphBuilder.Scope s = g.scope("/stem")) {
      y = g.convBnRelu(x, 2, 3, 3, 1, 1);
    }
    g.output(y);
    Onnx.ModelProto m = g.buildProto();
    float[] xs = new float[32];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) Math.cos(i * 0.3);
    }
    float[] got =
        single(OrtTestRunner.run(m, Map.of("x", Tensor.ofFloats(new long[] {1, 2, 4, 4}, xs))));
    float[] w = OrtTestRunner.initializerFloats(m, "stem.conv.weight");
    float[] cb = OrtTestRunner.initializerFloats(m, "stem.conv.bias");
    float[] sc = OrtTestRunner.initializerFloats(m, "stem.bn.weight");
    float[] bb = OrtTestRunner.initializerFloats(m, "stem.bn.bias");
    float[] mu = OrtTestRunner.initializerFloats(m, "stem.bn.running_mean");
    float[] var = OrtTestRunner.initializerFloats(m, "stem.bn.running_var");
    float[] want = new float[3 * 16];
    for (int o = 0; o < 3; o++) {
      for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 4; c++) {
          double acc = cb[o];
          for (int i = 0; i < 2; i++) {
            for (int kr = 0; kr < 3; kr++) {
              for (int kc = 0; kc < 3; kc++) {
                int rr = r + kr - 1;
                int cc = c + kc - 1;
                if (rr >= 0 && rr < 4 && cc >= 0 && cc < 4) {
                  acc += w[((o * 2 + i) * 3 + kr) * 3 + kc] * xs[(i * 4 + rr) * 4 + cc];
                }
              }
            }
          }
          double bn = (acc - mu[o]) / Math.sqrt(var[o] + 1e-5) * sc[o] + bb[o];
          want[(o * 4 + r) * 4 + c] = (float) Math.max(0, bn);
        }
      }
    }
    assertThat(got).containsExactly(want, within(1e-5f));
    assertThat(got).contains(0f); // the Relu clipped something
  }

  @ParameterizedTest
  @ValueSource(ints = {11, 13, 18})
  void shapeOpsWorkInEveryOpsetForm(int opset) {
    GraphBuilder g = GraphBuilder.create("shapes", opset);
    String x = g.input("x", DType.FLOAT32, 2, 4);
    String u = g.unsqueeze(x, 0); // 1x2x4
    String s = g.squeeze(u, 0); // 2x4
    List<String> parts = g.split(s, 1, 1, 3); // 2x1, 2x3
    String cat = g.concat(1, parts.get(1), parts.get(0)); // rotate columns left by one
    String sl = g.slice(cat, new long[] {1}, new long[] {2}, new long[] {0}, null); // row 1
    String sum = g.reduceSum(sl, new long[] {1}, false); // [1]
    String mean = g.reduceMean(x, new long[] {1}, false); // [2]
    String idx = g.initializer("idx", Tensor.ofLongs(new long[] {1}, 1));
    String gathered = g.gather(mean, idx, 0);
    String eq = g.equal(x, g.scalar(DType.FLOAT32, 2f));
    String wh = g.where(eq, g.scalar(DType.FLOAT32, 100f), x);
    String padded = g.pad(g.reshape(x, 1, 1, 2, 4), "reflect", 0, 0, 0, 1, 0, 0, 0, 1); // 1x1x2x6
    g.output(cat)
        .output(sum)
        .output(gathered)
        .output(wh)
        .output(padded)
        .output(g.cast(x, DType.INT64));
    Map<String, float[]> out =
        OrtTestRunner.run(g.buildProto(), Map.of("x", Tensor.ofFloats(new long[] {2, 4}, X)));
    float[][] r = out.values().toArray(new float[0][]);
    assertThat(r[0]).containsExactly(-2f, 3.5f, 0.25f, 1f, 2f, 4f, -1f, -0.75f);
    assertThat(r[1]).containsExactly(2f + 4f - 1f - 0.75f);
    assertThat(r[2]).containsExactly((-0.75f + 2f + 4f - 1f) / 4f);
    assertThat(r[3]).containsExactly(1f, -2f, 3.5f, 0.25f, -0.75f, 100f, 4f, -1f);
    assertThat(r[4]).containsExactly(-2f, 1f, -2f, 3.5f, 0.25f, 3.5f, 2f, -0.75f, 2f, 4f, -1f, 4f);
    assertThat(r[5]).containsExactly(1f, -2f, 3f, 0f, 0f, 2f, 4f, -1f);
  }

  @ParameterizedTest
  @ValueSource(ints = {11, 13})
  void superResolutionOps(int opset) {
    GraphBuilder g = GraphBuilder.create("sr", opset);
    String x = g.input("x", DType.FLOAT32, 1, 4, 1, 1);
    String d2s = g.depthToSpace(x, 2); // 1x1x2x2
    String up = g.resize(d2s, "nearest", 1f, 1f, 2f, 2f); // 1x1x4x4
    String pooled = g.maxPool(up, 2, 2, 0); // back to 1x1x2x2
    g.output(up).output(pooled);
    Map<String, float[]> out =
        OrtTestRunner.run(
            g.buildProto(), Map.of("x", Tensor.ofFloats(new long[] {1, 4, 1, 1}, 1f, 2f, 3f, 4f)));
    float[][] r = out.values().toArray(new float[0][]);
    assertThat(r[0]).containsExactly(1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4);
    assertThat(r[1]).containsExactly(1f, 2f, 3f, 4f);
  }

  @Test
  void modelIsDeterministicAndWellFormed() {
    Onnx.ModelProto a = smallBlock(42);
    Onnx.ModelProto b = smallBlock(42);
    Onnx.ModelProto c = smallBlock(43);
    assertThat(a.toByteArray()).isEqualTo(b.toByteArray());
    assertThat(a.toByteArray()).isNotEqualTo(c.toByteArray());
    assertThat(a.getIrVersion()).isEqualTo(8);
    assertThat(a.getOpsetImport(0).getDomain()).isEmpty();
    assertThat(a.getOpsetImport(0).getVersion()).isEqualTo(13);
    assertThat(a.getGraph().getNodeList()).allMatch(n -> n.getName().startsWith("/"));
    assertThat(a.getGraph().getOutput(0).getType().getTensorType().getElemType()).isEqualTo(1);
    assertThat(GraphBuilder.create("g", 19).input("x", DType.FLOAT32, 1)).isEqualTo("x");
  }

  @Test
  void tracksTypesAndShapesAndRejectsBadInput() {
    GraphBuilder g = GraphBuilder.create("t", 13);
    String ids = g.input("ids", DType.INT64, -1, 8);
    String x = g.input("x", DType.FLOAT32, 2, 8, 4);
    assertThat(g.typeOf(g.shape(ids))).isEqualTo(DType.INT64);
    assertThat(g.typeOf(g.equal(ids, ids))).isEqualTo(DType.BOOL);
    assertThat(g.typeOf(g.cast(ids, DType.FLOAT16))).isEqualTo(DType.FLOAT16);
    String w = g.weight("w", new long[] {4, 5}, 1f);
    assertThat(g.shapeOf(g.matMul(x, w))).containsExactly(2, 8, 5);
    assertThat(g.shapeOf(g.add(x, g.scalarLike(x, 1f)))).containsExactly(2, 8, 4);
    assertThatThrownBy(() -> g.add(x, "nope")).hasMessageContaining("'nope'");
    assertThatThrownBy(() -> g.input("x", DType.FLOAT32, 1)).hasMessageContaining("already used");
    assertThatThrownBy(g::endScope).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(g::buildProto).hasMessageContaining("no outputs");
  }

  @Test
  void declaresTheTypesAndShapesTheIndexInfers() {
    GraphBuilder g = GraphBuilder.create("heads", 13);
    String x = g.input("x", DType.FLOAT32, 2, 8, 16);
    String heads = g.transpose(g.reshape(x, 0, 0, 4, 4), 0, 2, 1, 3);
    String mask = g.op("Dropout").in(heads).outputs(2).add().get(1);
    g.output(heads).output(mask);
    // Reshape to constant targets and Transpose: shapes the builder now infers as the index does.
    assertThat(g.shapeOf(heads)).containsExactly(2, 4, 8, 4);
    assertThat(g.typeOf(mask)).isEqualTo(DType.BOOL);
    // The index of the same graph without declared output shapes infers the same ones.
    Onnx.ModelProto built = g.buildProto();
    Onnx.GraphProto.Builder undeclared = built.getGraph().toBuilder();
    for (int i = 0; i < undeclared.getOutputCount(); i++) {
      undeclared.getOutputBuilder(i).getTypeBuilder().getTensorTypeBuilder().clearShape();
    }
    dev.halfbisect.onnx.GraphIndex index =
        dev.halfbisect.onnx.OnnxModel.of(built.toBuilder().setGraph(undeclared).build(), null, "u")
            .index();
    for (Onnx.ValueInfoProto out : built.getGraph().getOutputList()) {
      assertThat(index.valueInfo(out.getName())).isEqualTo(out);
    }
  }

  @Test
  void weightsAreUniformOrNormalAsDocumented() {
    GraphBuilder g = GraphBuilder.create("w", 13).seed(1);
    g.weight("u", new long[] {1000}, 0.5f);
    g.weightNormal("n", new long[] {4000}, 2f);
    g.output("u");
    Onnx.ModelProto m = g.buildProto();
    float[] u = OrtTestRunner.initializerFloats(m, "u");
    float[] n = OrtTestRunner.initializerFloats(m, "n");
    for (float v : u) {
      assertThat(v).isGreaterThanOrEqualTo(-0.5f).isLessThan(0.5f);
    }
    double mean = 0;
    double sq = 0;
    for (float v : n) {
      mean += v;
      sq += v * v;
    }
    mean /= n.length;
    assertThat(mean).isCloseTo(0, within(0.15));
    assertThat(Math.sqrt(sq / n.length)).isCloseTo(2, within(0.15));
  }

  @Test
  void gemmSigmoidReciprocalAndConstantNode() {
    GraphBuilder g = GraphBuilder.create("gemm", 13);
    String a = g.input("a", DType.FLOAT32, 1, 2);
    String b =
        g.initializer(
            "b", Tensor.ofFloats(new long[] {3, 2}, 1f, 0f, 0f, 1f, 1f, 1f)); // used transposed
    String c = g.constant(Tensor.ofFloats(new long[] {3}, 0.5f, 0.5f, 0.5f));
    String y = g.gemm(a, b, c, false, true); // [a0, a1, a0 + a1] + 0.5
    g.output(g.sigmoid(y)).output(g.reciprocal(y));
    Onnx.ModelProto m = g.buildProto();
    assertThat(m.getGraph().getNodeList().stream().map(Onnx.NodeProto::getName))
        .containsExactly("/Constant", "/Gemm", "/Sigmoid", "/Reciprocal");
    Map<String, float[]> out =
        OrtTestRunner.run(m, Map.of("a", Tensor.ofFloats(new long[] {1, 2}, 1.5f, -1f)));
    float[][] r = out.values().toArray(new float[0][]);
    float[] lin = {2f, -0.5f, 1f};
    for (int i = 0; i < 3; i++) {
      assertThat(r[0][i]).isCloseTo((float) (1 / (1 + Math.exp(-lin[i]))), within(1e-6f));
      assertThat(r[1][i]).isCloseTo(1 / lin[i], within(1e-6f));
    }
    assertThat(g.build().name()).isEqualTo("gemm");
    assertThat(g.build().proto()).isEqualTo(m);
  }

  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  static Onnx.ModelProto smallBlock(long seed) {
    GraphBuilder g = GraphBuilder.create("block", 13).seed(seed);
    String x = g.input("x", DType.FLOAT32, 1, 4, 8);
    try (GraphBuilder.Scope s = g.scope("/blocks/blocks.0")) {
      String h;
      try (GraphBuilder.Scope a = g.scope("norm1")) {
        h = g.layerNorm(x, 8, 1e-5f, false);
      }
      try (GraphBuilder.Scope a = g.scope("attn")) {
        h = g.add(x, g.attention(h, 8, 2, null));
      }
      try (GraphBuilder.Scope a = g.scope("mlp")) {
        h = g.add(h, g.linear(g.geluErf(g.linear(h, 8, 16)), 16, 8));
      }
      g.output(h);
    }
    return g.buildProto();
  }

  private static float[] single(Map<String, float[]> out) {
    assertThat(out).hasSize(1);
    return out.values().iterator().next();
  }

  private static float[] layerNorm(float[] x, int d, float[] gamma, float[] beta) {
    float[] y = new float[x.length];
    for (int r = 0; r < x.length / d; r++) {
      double mean = 0;
      for (int i = 0; i < d; i++) {
        mean += x[r * d + i];
      }
      mean /= d;
      double var = 0;
      for (int i = 0; i < d; i++) {
        var += (x[r * d + i] - mean) * (x[r * d + i] - mean);
      }
      var /= d;
      for (int i = 0; i < d; i++) {
        y[r * d + i] = (float) ((x[r * d + i] - mean) / Math.sqrt(var + 1e-5) * gamma[i] + beta[i]);
      }
    }
    return y;
  }

  private static float[] lin(float[] x, int rows, int in, int out, float[] w, float[] b) {
    float[] y = new float[rows * out];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < out; o++) {
        double acc = b[o];
        for (int i = 0; i < in; i++) {
          acc += x[r * in + i] * w[i * out + o];
        }
        y[r * out + o] = (float) acc;
      }
    }
    return y;
  }

  /** erf by its Maclaurin series (|x| <= 3 here), accurate far beyond float precision. */
  static double erf(double x) {
    double sum = 0;
    double term = x;
    for (int n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }
}
