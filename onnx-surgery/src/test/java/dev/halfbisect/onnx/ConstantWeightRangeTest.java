package dev.halfbisect.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.onnx.builder.ParseTimeModels;
import org.junit.jupiter.api.Test;

/** {@link InitializerRangeReport} scans Constant node values as well as initializers. */
class ConstantWeightRangeTest {
  @Test
  void constantNodeValueBeyondFp16RangeIsTheWorstRow() {
    InitializerRangeReport r =
        InitializerRangeReport.of(ParseTimeModels.convBnCnn(ParseTimeModels.HUGE_VARIANCE));
    InitializerRangeReport.Row worst = r.rows().get(0);
    assertThat(worst.maxAbs()).isEqualTo(ParseTimeModels.HUGE_VARIANCE);
    assertThat(worst.countAboveFp16Max()).isEqualTo(1);
    assertThat(worst.constantNode()).hasValueSatisfying(n -> assertThat(n).startsWith("/block1/"));
    assertThat(worst.source()).startsWith("Constant /block1/");
    assertThat(r.risky()).contains(worst);
    assertThat(r.format(3)).contains("Constant /block1/");
  }

  @Test
  void initializerRowsSayInitializer() {
    InitializerRangeReport r = InitializerRangeReport.of(ParseTimeModels.nearZeroOutput());
    assertThat(r.rows()).isNotEmpty().allMatch(x -> x.source().equals("initializer"));
  }
}
