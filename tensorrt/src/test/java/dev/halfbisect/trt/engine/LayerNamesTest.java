package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LayerNamesTest {
  @Test
  void readsOnnxLayerMetadataIncludingJoinedEntries() {
    assertThat(LayerNames.fromMetadata("[ONNX Layer: /encoder/layer.0/Add]"))
        .containsExactly("/encoder/layer.0/Add");
    assertThat(LayerNames.fromMetadata("[ONNX Layer: a]\u001e[ONNX Layer: b]\u001e[ONNX Layer: a]"))
        .containsExactly("a", "b");
    // TensorRT 10.6 engine JSON joins the entries of a fused layer with 0x1F
    assertThat(LayerNames.fromMetadata("[ONNX Layer: proj]\u001f[ONNX Layer: proj_bias]"))
        .containsExactly("proj", "proj_bias");
    assertThat(LayerNames.fromMetadata("")).isEmpty();
    assertThat(LayerNames.fromMetadata(null)).isEmpty();
    assertThat(LayerNames.fromMetadata("something else")).isEmpty();
  }

  @Test
  void nodeOfALayerIsItsMetadataElseItsName() {
    assertThat(LayerNames.onnxNodes("ln_pow_1", "[ONNX Layer: ln_pow]")).containsExactly("ln_pow");
    assertThat(LayerNames.onnxNodes("ln_pow", "")).containsExactly("ln_pow");
    assertThat(LayerNames.onnxNodes("", "")).isEmpty();
  }

  @Test
  void splitsFusedNames() {
    assertThat(LayerNames.fusedParts("proj + proj_bias")).containsExactly("proj", "proj_bias");
    assertThat(LayerNames.fusedParts("PWN(PWN(ln_sub, ln_pow), ln_div)"))
        .containsExactly("ln_sub", "ln_pow", "ln_div");
    assertThat(LayerNames.fusedParts("Reformatting CopyNode for Input Tensor 0 to proj"))
        .containsExactly("Reformatting CopyNode for Input Tensor 0 to proj");
  }

  @Test
  void readsForeignNodeBounds() {
    assertThat(LayerNames.foreignNodeBounds("{ForeignNode[/Mul...ln_div]}"))
        .containsExactly("/Mul", "ln_div");
    assertThat(LayerNames.foreignNodeBounds("{ForeignNode[ln_pow]}"))
        .containsExactly("ln_pow", "ln_pow");
    assertThat(LayerNames.foreignNodeBounds("proj + proj_bias")).isEmpty();
  }
}
