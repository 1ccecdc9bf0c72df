package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 19: the share of half-precision tensors a strongly typed engine reports. */
class HalfShareTest {
  private static EngineLayer el(String name, String... outs) {
    return new EngineLayer(
        name, "x", "", ImmutableList.of("Row major linear FP32"), ImmutableList.copyOf(outs));
  }

  @Test
  void countsFp16AndBf16OutputsAmongFloatOutputs() {
    PlanCheck.HalfShare s =
        PlanCheck.halfShare(
            List.of(
                el("a", "Row major linear FP16 format"),
                el("b", "Row major linear BF16 format", "Half"),
                el("c", "Row major linear FP32"),
                el("shape", "Row major linear Int32")));
    assertThat(s.half()).isEqualTo(3);
    assertThat(s.floats()).isEqualTo(4);
    assertThat(s.describe())
        .isEqualTo("engine: 3 of 4 float tensors (75.0%) in half precision (FP16/BF16)");
    assertThat(EngineLayer.formatType("Row major linear BF16 format"))
        .isEqualTo(EngineLayer.Precision.FP16);
    assertThat(PlanCheck.halfShare(List.of()).share()).isZero();
  }
}
