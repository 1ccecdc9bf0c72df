package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SliceFillRetryTest {
  /** Myelin's message from Swin-T's observed FP16 builds (TensorRT 10.6, H100, 2026-12-07). */
  private static final String MYELIN =
      "Error Code: 9: Skipping tactic 0x0000000000000000 due to exception"
          + " [api_compile.cpp:validate_copy_operation:4455] Slice operation"
          + " \"/features/features_1/features_1_0/attn/Pad_69_slice\" has incorrect fill value"
          + " type, slice op requires fill value type to be same as its input.";

  private static NetworkLayer layer(int i, String type, Boolean... floats) {
    return new NetworkLayer(
        i, "l" + i, "[ONNX Layer: n" + i + "]", type, ImmutableList.copyOf(floats));
  }

  @Test
  void appliesToWeakFp16BuildsThatMyelinRejectedOverAFillTypeOnly() {
    List<String> errors =
        List.of(MYELIN, "Error Code 10: Internal Error (Could not find any implementation)");
    assertThat(SliceFillRetry.applies("fp16", errors)).isTrue();
    assertThat(SliceFillRetry.applies("strong", errors)).isFalse();
    assertThat(SliceFillRetry.applies("fp32", errors)).isFalse();
    assertThat(
            SliceFillRetry.applies(
                "fp16", List.of("Error Code 10: Could not find any implementation for node")))
        .isFalse();
    assertThat(SliceFillRetry.applies("fp16", List.of())).isFalse();
  }

  @Test
  void pinsTheFloatSliceAndPaddingLayersThePlanLeavesInFp16() {
    List<NetworkLayer> network =
        List.of(
            layer(0, "kMATRIX_MULTIPLY", true),
            layer(1, "kSLICE", true),
            layer(2, "kSLICE", false), // shape arithmetic: int output, left alone
            layer(3, "kPADDING", true),
            layer(4, "kSLICE", true), // pinned by the plan already
            layer(5, "kSHUFFLE", true));
    ImmutableList<PrecisionConstraints.LayerConstraint> pins =
        SliceFillRetry.layers(network, List.of(4));
    assertThat(pins)
        .extracting(PrecisionConstraints.LayerConstraint::layerIndex)
        .containsExactly(1, 3);
    assertThat(pins.get(0).floatOutputs()).containsExactly(0);
    assertThat(SliceFillRetry.layers(network.subList(0, 1), List.of())).isEmpty();
  }

  @Test
  void theNoteSaysWhatWasPinnedAndWhyItIsExact() {
    assertThat(SliceFillRetry.note(15))
        .contains("15 Slice/Pad layers in FP32")
        .contains("exact")
        .contains(SliceFillRetry.MYELIN_MESSAGE);
    assertThat(SliceFillRetry.note(1)).contains("1 Slice/Pad layer in FP32");
  }
}
