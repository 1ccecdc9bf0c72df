package dev.halfbisect.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.onnx.OnnxModel;
import org.junit.jupiter.api.Test;

class ExamplesTest {
  @Test
  void registryNamesEveryExampleAndRejectsUnknownNames() {
    assertThat(Examples.names()).startsWith("timesformer").contains("minilm");
    assertThat(Examples.get("timesformer")).isInstanceOf(TimesformerExample.class);
    assertThatThrownBy(() -> Examples.get("resnet"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resnet")
        .hasMessageContaining("timesformer");
  }

  @Test
  void timesformerModelIsDeterministicAndNamedLikeAPyTorchExport() {
    OnnxModel a = Examples.get("timesformer").buildModel();
    OnnxModel b = Examples.get("timesformer").buildModel();
    assertThat(a.toBytes()).isEqualTo(b.toBytes());
    assertThat(a.opsetVersion()).isEqualTo(13);
    assertThat(a.index().nodes())
        .extracting(n -> n.getName())
        .contains(
            "/blocks/blocks.5/temporal_attn/MatMul",
            "/blocks/blocks.5/attn/MatMul",
            "/blocks/blocks.5/norm1/Pow",
            "/blocks/blocks.5/mlp/fc1/MatMul",
            "/blocks/blocks.5/mlp/act/Erf",
            "/blocks/blocks.5/mlp/fc2/MatMul",
            "/blocks/blocks.11/Add_2")
        .noneMatch(n -> n.startsWith("/blocks/blocks.12/"));
  }
}
