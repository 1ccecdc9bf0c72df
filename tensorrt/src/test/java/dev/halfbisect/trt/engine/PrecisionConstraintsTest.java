package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrecisionConstraintsTest {
  private static NetworkLayer layer(int i, String name, String meta, Boolean... floats) {
    return new NetworkLayer(i, name, meta, "kELEMENTWISE", ImmutableList.copyOf(floats));
  }

  private final List<NetworkLayer> network =
      List.of(
          layer(0, "scale_mul", "[ONNX Layer: scale_mul]", true),
          layer(1, "ln_pow", "[ONNX Layer: ln_pow]", true),
          layer(
              2,
              "ONNXTRT_Broadcast_3",
              "[ONNX Layer: ln_pow]",
              true), // helper layer the parser added
          layer(3, "shape_of", "[ONNX Layer: shape_of]", false),
          layer(4, "topk", "[ONNX Layer: topk]", true, false));

  @Test
  void pinsEveryLayerOfANodeByNameOrMetadata() {
    PrecisionConstraints c = PrecisionConstraints.decide(network, List.of("ln_pow"));
    assertThat(c.constraints())
        .extracting(PrecisionConstraints.LayerConstraint::layerIndex)
        .containsExactly(1, 2);
    assertThat(c.unmatchedNodes()).isEmpty();
  }

  @Test
  void forcesOnlyFloatOutputsAndSkipsLayersWithoutThem() {
    PrecisionConstraints c = PrecisionConstraints.decide(network, List.of("shape_of", "topk"));
    assertThat(c.constraints()).hasSize(1);
    assertThat(c.constraints().get(0).layerName()).isEqualTo("topk");
    assertThat(c.constraints().get(0).floatOutputs()).containsExactly(0);
  }

  @Test
  void reportsPinnedNodesWithoutLayers() {
    PrecisionConstraints c =
        PrecisionConstraints.decide(network, List.of("scale_mul", "folded_const", "typo"));
    assertThat(c.constraints())
        .extracting(PrecisionConstraints.LayerConstraint::layerName)
        .containsExactly("scale_mul");
    assertThat(c.unmatchedNodes()).containsExactly("folded_const", "typo");
  }

  @Test
  void layerWithoutMetadataMatchesByName() {
    PrecisionConstraints c =
        PrecisionConstraints.decide(
            List.of(new NetworkLayer(0, "custom", "", "kPLUGIN", ImmutableList.of(true))),
            List.of("custom"));
    assertThat(c.constraints()).hasSize(1);
  }
}
