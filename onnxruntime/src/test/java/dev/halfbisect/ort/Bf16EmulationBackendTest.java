package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Bf16;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@code ort:bf16-emulated} (issue 19): BF16 storage emulation through the backend SPI. */
class Bf16EmulationBackendTest {
  private final OrtBackend backend = new OrtBackend();

  private float[] run(OnnxModel m, String mode, PrecisionPlan plan, float[] x) throws Exception {
    try (BackendSession s = backend.open(m.toModelRef(), BuildOptions.of(mode, plan))) {
      return s.run(Map.of("x", Tensor.ofFloats(new long[] {1, x.length}, x)))
          .get("y")
          .toFloatArray();
    }
  }

  private static OnnxModel unary(String op, int n) {
    GraphBuilder g = GraphBuilder.create("bf16", 13);
    String x = g.input("x", DType.FLOAT32, 1, n);
    String y =
        switch (op) {
          case "MulOne" -> g.mul(x, g.scalar(DType.FLOAT32, 1f));
          case "Square" -> g.op("Mul").in(x, x).name("square").add1();
          default -> throw new IllegalArgumentException(op);
        };
    g.output(y, "y");
    return g.build();
  }

  /**
   * ONNX Runtime's float->bfloat16 Cast must round exactly as {@link Bf16} (nearest, ties to even):
   * otherwise the emulation would say something else than the conversion tests prove.
   */
  @Test
  void ortCastRoundsToNearestEvenLikeBf16() throws Exception {
    SplittableRandom r = new SplittableRandom(7);
    float[] x = new float[4096];
    for (int i = 0; i < x.length; i++) {
      switch (i % 4) {
        case 0 -> x[i] = Float.intBitsToFloat((r.nextInt(0x7f00) << 16) | 0x8000); // exact tie
        case 1 -> x[i] = -Float.intBitsToFloat((r.nextInt(0x7f00) << 16) | 0x8000);
        case 2 -> x[i] = (float) r.nextGaussian() * 1000f;
        default -> x[i] = Float.intBitsToFloat(r.nextInt(0x00800000)); // float32 subnormals
      }
    }
    float[] y = run(unary("MulOne", x.length), "bf16-emulated", PrecisionPlan.allFp16(), x);
    for (int i = 0; i < x.length; i++) {
      float want = Bf16.round(x[i]);
      // a CPU may flush float32 subnormals in arithmetic: accept zero for those, nothing else
      if (i % 4 == 3 && y[i] == 0f) {
        continue;
      }
      assertThat(Float.floatToIntBits(y[i]))
          .as(
              "x[%d] = %s (%08x): bf16-emulated %s, Bf16.round %s",
              i, x[i], Float.floatToRawIntBits(x[i]), y[i], want)
          .isEqualTo(Float.floatToIntBits(want));
    }
  }

  @Test
  void fp16OverflowIsAnOrdinaryValueInBf16WithLargerRoundingError() throws Exception {
    float[] x = {300f, 1.001f, -257.3f};
    OnnxModel m = unary("Square", x.length);
    float[] ref = run(m, "fp32", PrecisionPlan.allFp32(), x);
    float[] fp16 = run(m, "fp16-emulated", PrecisionPlan.allFp16(), x);
    float[] bf16 = run(m, "bf16-emulated", PrecisionPlan.allFp16(), x);
    assertThat(fp16[0]).as("300^2 in FP16").isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(bf16[0]).as("300^2 in BF16").isFinite();
    for (int i = 0; i < x.length; i++) {
      double rel = Math.abs(bf16[i] - ref[i]) / Math.abs(ref[i]);
      // input and output each rounded once: at most about 3 * 2^-8
      assertThat(rel).isLessThanOrEqualTo(3 * 0x1p-8);
    }
    // 1.001^2 loses more in BF16 (7 mantissa bits) than in FP16 (10)
    assertThat(Math.abs(bf16[1] - ref[1])).isGreaterThan(Math.abs(fp16[1] - ref[1]));
  }

  @Test
  void floatMaxMaskConstantIsClampedToBf16RangeNotInfinite() throws Exception {
    GraphBuilder g = GraphBuilder.create("mask", 13);
    String x = g.input("x", DType.FLOAT32, 1, 2);
    // BERT-style additive mask constant times zero: -inf * 0 would be NaN
    String masked = g.add(x, g.scalar(DType.FLOAT32, -Float.MAX_VALUE));
    g.output(g.mul(masked, g.scalar(DType.FLOAT32, 0f)), "y");
    float[] y = run(g.build(), "bf16-emulated", PrecisionPlan.allFp16(), new float[] {1f, 2f});
    for (float v : y) {
      assertThat(v).as("-3.39e38 * 0 (not -inf * 0 = NaN)").isZero();
    }
  }

  @Test
  void opsetBelow13IsABackendErrorSayingWhy() {
    GraphBuilder g = GraphBuilder.create("old", 11);
    String x = g.input("x", DType.FLOAT32, 1, 2);
    g.output(g.op("Relu").in(x).name("r").add1());
    OnnxModel m = g.build();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> backend.open(m.toModelRef(), BuildOptions.of("bf16-emulated")))
        .isInstanceOf(dev.halfbisect.core.backend.BackendException.class)
        .hasMessageContaining("opset >= 13")
        .hasMessageContaining("has opset 11");
  }

  @Test
  void pinnedNodesStayExactAndBf16IsItsOwnSession() throws Exception {
    float[] x = {1.001f, 3.3f};
    OnnxModel m = unary("Square", x.length);
    // every node pinned (the builder may name the output through an Identity)
    java.util.List<String> all = m.graph().getNodeList().stream().map(n -> n.getName()).toList();
    float[] ref = run(m, "fp32", PrecisionPlan.allFp32(), x);
    float[] pinned = run(m, "bf16-emulated", PrecisionPlan.fp16Except(all), x);
    assertThat(pinned).containsExactly(ref);
    ModelRef ref2 = m.toModelRef();
    try (BackendSession a = backend.open(ref2, BuildOptions.of("fp16-emulated"));
        BackendSession b = backend.open(ref2, BuildOptions.of("bf16-emulated"))) {
      Tensor in = Tensor.ofFloats(new long[] {1, 2}, x);
      assertThat(a.run(Map.of("x", in)).get("y").toFloatArray())
          .isNotEqualTo(b.run(Map.of("x", in)).get("y").toFloatArray());
    }
    assertThat(backend.modes()).contains("bf16-emulated");
  }
}
