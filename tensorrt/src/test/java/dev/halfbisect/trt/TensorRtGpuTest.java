package dev.halfbisect.trt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real builds; skipped (with the reason) where TensorRT or a GPU is missing. */
class TensorRtGpuTest {
  private static final TensorRtBackend TRT = new TensorRtBackend();

  @BeforeAll
  static void needsGpu() {
    Availability a = TRT.availability();
    Assumptions.assumeTrue(a.available(), "TensorRT backend unavailable: " + a.reason());
  }

  @Test
  void pinningTheLayerNormFixesTheFp16Overflow() throws Exception {
    ModelRef ref =
        ModelRef.ofBytes("overflow_ln", TestModels.overflowLayerNorm(16, 64, 300f, false), null);
    Map<String, Tensor> in =
        Map.of("x", Tensor.ofFloats(new long[] {1, 16, 64}, TestModels.normalInput(1024, 3)));
    float[] ref32;
    try (BackendSession s = TRT.open(ref, BuildOptions.of("fp32"))) {
      ref32 = s.run(in).get("y").toFloatArray();
    }
    try (BackendSession s =
        TRT.open(
            ref,
            BuildOptions.of("fp16", PrecisionPlan.fp16Except(TestModels.LAYER_NORM_NODES))
                .withObserved(List.of("d2")))) {
      RunResult r = s.run(in);
      float[] y = r.get("y").toFloatArray();
      double num = 0;
      double den = 0;
      for (int i = 0; i < y.length; i++) {
        num += (y[i] - ref32[i]) * (y[i] - ref32[i]);
        den += ref32[i] * ref32[i];
      }
      assertThat(Math.sqrt(num / den)).isLessThan(1e-2);
      assertThat(r.outputs().keySet()).contains("y", "y_pos", "y_arg", "y_i32", "d2");
      assertThat(((TrtSession) s).planCheck()).hasSize(TestModels.LAYER_NORM_NODES.size());
    }
  }

  @Test
  void observedAsFp16MarksTheObservedTensorsOfFp16LayersInFp16() throws Exception {
    ModelRef ref =
        ModelRef.ofBytes("observed_types", TestModels.overflowLayerNorm(16, 64, 1f, false), null);
    Map<String, Tensor> in =
        Map.of("x", Tensor.ofFloats(new long[] {1, 16, 64}, TestModels.normalInput(1024, 5)));
    try (BackendSession s =
        TRT.open(
            ref,
            BuildOptions.of("fp16", PrecisionPlan.fp16Except(List.of("ln_div")))
                .withObserved(List.of("xs", "n", "p"))
                .withProperty("halfbisect.trt.observedAs", "fp16"))) {
      RunResult r = s.run(in);
      // xs and p come from FP16 layers; n from the pinned ln_div; y is a graph output
      assertThat(r.get("xs").dtype()).isEqualTo(dev.halfbisect.core.DType.FLOAT16);
      assertThat(r.get("p").dtype()).isEqualTo(dev.halfbisect.core.DType.FLOAT16);
      assertThat(r.get("n").dtype()).isEqualTo(dev.halfbisect.core.DType.FLOAT32);
      assertThat(r.get("y").dtype()).isEqualTo(dev.halfbisect.core.DType.FLOAT32);
    }
  }
}
