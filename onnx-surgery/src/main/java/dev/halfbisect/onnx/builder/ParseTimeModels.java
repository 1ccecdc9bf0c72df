package dev.halfbisect.onnx.builder;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.OnnxModel;
import java.util.SplittableRandom;

/**
 * Small models that show where an FP16 emulation must do what TensorRT does at parse time (issue
 * 15), shared by the tests of several modules and by the agreement script ({@code
 * bench/gpu/h15a.sh}): a CNN whose BatchNormalization variance is far beyond FP16's range, held in
 * {@code Constant} nodes as exporters of other frameworks write them; an attention-mask fill of
 * -3.4e38; and a model whose output is ~0 relative to FP16's resolution.
 */
public final class ParseTimeModels {
  /** The BN variance measured on a real exported CNN (issue 15). */
  public static final float HUGE_VARIANCE = 9.79e7f;

  /** Name of the first BatchNormalization of {@link #convBnCnn}. */
  public static final String BN1 = "/block1/bn";

  /** Name of the first Conv of {@link #convBnCnn}. */
  public static final String CONV1 = "/block1/conv";

  /** Name of the attention-mask Mul of {@link #maskedSoftmax}. */
  public static final String MASK_MUL = "/mask/fill";

  private ParseTimeModels() {}

  /**
   * {@code x[1,3,16,16] -> Conv -> BN -> Relu -> Conv -> BN -> Relu -> y[1,4,16,16]}, every weight
   * and BN parameter in a {@code Constant} node. Channel 0 of the first BN has variance {@code
   * variance} and scale 1000 (true per-channel scale 1000 / sqrt(9.79e7) = 0.10); rounding that
   * variance to FP16 (inf, or 65504 when clamped) changes the channel's scale 38x or zeroes it.
   */
  public static OnnxModel convBnCnn(float variance) {
    GraphBuilder g = GraphBuilder.create("conv_bn_cnn", 13).seed(11);
    SplittableRandom r = new SplittableRandom(7);
    String x = g.input("x", DType.FLOAT32, 1, 3, 16, 16);
    String h = block(g, r, "/block1", x, 3, 8, variance);
    h = block(g, r, "/block2", h, 8, 4, 1f);
    g.output(h, "y");
    return g.build();
  }

  @SuppressWarnings("try") // the scope only names the nodes built inside it
  private static String block(
      GraphBuilder g, SplittableRandom r, String scope, String x, int in, int out, float var0) {
    try (GraphBuilder.Scope s = g.scope(scope)) {
      String w = g.constant(normal(r, new long[] {out, in, 3, 3}, 0.3));
      String b = g.constant(normal(r, new long[] {out}, 0.1));
      String c = g.op("Conv").in(x, w, b).name(scope + "/conv").attrs(convAttrs()).add1();
      float[] scale = new float[out];
      float[] bias = new float[out];
      float[] mean = new float[out];
      float[] var = new float[out];
      for (int i = 0; i < out; i++) {
        scale[i] = i == 0 && var0 > 1 ? 1000f : 1f + 0.1f * i;
        bias[i] = 0.05f * i;
        mean[i] = 0.01f * i;
        var[i] = i == 0 ? var0 : 1f + 0.5f * i;
      }
      String bn =
          g.op("BatchNormalization")
              .in(
                  c,
                  g.constant(Tensor.ofFloats(new long[] {out}, scale)),
                  g.constant(Tensor.ofFloats(new long[] {out}, bias)),
                  g.constant(Tensor.ofFloats(new long[] {out}, mean)),
                  g.constant(Tensor.ofFloats(new long[] {out}, var)))
              .attr("epsilon", 1e-5f)
              .name(scope + "/bn")
              .add1();
      return g.op("Relu").in(bn).name(scope + "/relu").add1();
    }
  }

  private static java.util.Map<String, Object> convAttrs() {
    return java.util.Map.of(
        "strides", new long[] {1, 1}, "pads", new long[] {1, 1, 1, 1}, "group", 1L);
  }

  /**
   * BERT's attention-mask fill: {@code y = Softmax(scores + (1 - float(mask)) * -3.4028235e38)}
   * with {@code scores[1,2,8,8]} float and {@code mask[1,8]} int64 (1 = keep). The fill constant is
   * a {@code Constant} node read by the Mul {@link #MASK_MUL}; TensorRT clamps it to -65504 and the
   * masked positions still get probability 0.
   */
  @SuppressWarnings("try")
  public static OnnxModel maskedSoftmax() {
    GraphBuilder g = GraphBuilder.create("masked_softmax", 13);
    String scores = g.input("scores", DType.FLOAT32, 1, 2, 8, 8);
    String mask = g.input("mask", DType.INT64, 1, 8);
    String y;
    try (GraphBuilder.Scope s = g.scope("/mask")) {
      String m = g.cast(mask, DType.FLOAT32);
      String inv = g.sub(g.scalar(DType.FLOAT32, 1f), m);
      String fill =
          g.op("Mul")
              .in(inv, g.constant(Tensor.ofFloats(new long[0], -3.4028235e38f)))
              .name(MASK_MUL)
              .add1();
      String wide = g.unsqueeze(fill, 1, 2);
      y = g.softmax(g.add(scores, wide), -1);
    }
    g.output(y, "y");
    return g.build();
  }

  /**
   * {@code y = 2e-6 * tanh(x W)}, {@code x[1,64]}: an output of max |y| about 2e-6, deep in FP16's
   * subnormal range (spacing 6e-8, about 3% of the values), where the normalized error reads as a
   * failure while the absolute error is a few 1e-8.
   */
  public static OnnxModel nearZeroOutput() {
    GraphBuilder g = GraphBuilder.create("near_zero_output", 13).seed(3);
    String x = g.input("x", DType.FLOAT32, 1, 64);
    String h = g.tanh(g.matMul(x, g.weightNormal("w", new long[] {64, 16}, 0.2f)));
    g.output(g.mul(h, g.scalar(DType.FLOAT32, 2e-6f)), "y");
    return g.build();
  }

  private static Tensor normal(SplittableRandom r, long[] shape, double std) {
    float[] v = new float[(int) Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      // Box-Muller: SplittableRandom has no nextGaussian before Java 17's RandomGenerator default
      double u = 1 - r.nextDouble();
      v[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
    }
    return Tensor.ofFloats(shape, v);
  }
}
