package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.onnx.InitializerRangeReport;
import dev.halfbisect.onnx.builder.ParseTimeModels;
import org.junit.jupiter.api.Test;

/** The API form of {@code inspect}'s weight table covers Constant nodes (issue 15, point 6). */
class WeightRangesApiTest {
  @Test
  void constantNodeWeightsAreReported() {
    InitializerRangeReport r =
        HalfBisect.model(ParseTimeModels.convBnCnn(ParseTimeModels.HUGE_VARIANCE)).weightRanges();
    assertThat(r.risky())
        .singleElement()
        .satisfies(row -> assertThat(row.constantNode()).isPresent())
        .satisfies(row -> assertThat(row.maxAbs()).isEqualTo(ParseTimeModels.HUGE_VARIANCE));
  }
}
