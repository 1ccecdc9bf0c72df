package dev.halfbisect.report.blocks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class BlockDetectorTest {
  private static BlockId id(String name) {
    return BlockDetector.detect(name).orElseThrow(() -> new AssertionError("no block in " + name));
  }

  @Test
  void torchOnnxTimmViT() {
    assertThat(id("/blocks/blocks.5/attn/qkv/MatMul")).isEqualTo(new BlockId("blocks.5", 5));
    assertThat(id("/blocks/blocks.11/mlp/act/Mul_1")).isEqualTo(new BlockId("blocks.11", 11));
    assertThat(id("/blocks.3/norm1/ReduceMean")).isEqualTo(new BlockId("blocks.3", 3));
  }

  @Test
  void huggingFaceBertAndTimeSformer() {
    assertThat(id("/encoder/layer.3/attention/self/Softmax"))
        .isEqualTo(new BlockId("encoder/layer.3", 3));
    assertThat(id("/timesformer/encoder/layer.10/temporal_attention/output/dense/MatMul"))
        .isEqualTo(new BlockId("timesformer/encoder/layer.10", 10));
    assertThat(id("encoder.layer.3.attention.output.LayerNorm.weight"))
        .isEqualTo(new BlockId("encoder.layer.3", 3));
    // encoder and decoder blocks with the same number are different blocks
    assertThat(id("/decoder/layer.3/Add")).isNotEqualTo(id("/encoder/layer.3/Add"));
  }

  @Test
  void llamaClipGpt2T5AndTf2onnx() {
    assertThat(id("/model/layers.11/mlp/down_proj/MatMul"))
        .isEqualTo(new BlockId("model/layers.11", 11));
    assertThat(id("model.layers.11.self_attn.q_proj"))
        .isEqualTo(new BlockId("model.layers.11", 11));
    assertThat(id("/transformer/resblocks.7/attn/out_proj/Gemm"))
        .isEqualTo(new BlockId("transformer/resblocks.7", 7));
    assertThat(id("/transformer/h.3/attn/c_attn/Gemm"))
        .isEqualTo(new BlockId("transformer/h.3", 3));
    assertThat(id("/encoder/block.1/layer.0/SelfAttention/Softmax"))
        .isEqualTo(new BlockId("encoder/block.1/layer.0", 0));
    assertThat(id("model/layer_3/dense/MatMul")).isEqualTo(new BlockId("model/layer_3", 3));
  }

  @Test
  void diffusersAndSwinNesting() {
    assertThat(id("/down_blocks.2/downsamplers.0/conv/Conv"))
        .isEqualTo(new BlockId("down_blocks.2", 2));
    assertThat(id("/down_blocks.2/resnets.1/conv1/Conv"))
        .isEqualTo(new BlockId("down_blocks.2/resnets.1", 1));
    assertThat(id("/up_blocks.0/attentions.2/transformer_blocks.0/attn1/Softmax"))
        .isEqualTo(new BlockId("up_blocks.0/attentions.2/transformer_blocks.0", 0));
    assertThat(id("/layers.1/blocks.0/attn/Softmax"))
        .isEqualTo(new BlockId("layers.1/blocks.0", 0));
  }

  @Test
  void namesWithoutBlocks() {
    assertThat(BlockDetector.detect("MatMul_12")).isEmpty();
    assertThat(BlockDetector.detect("/patch_embed/proj/Conv")).isEqualTo(Optional.empty());
    assertThat(BlockDetector.detect("/conv_h_1/Conv")).isEmpty();
    assertThat(BlockDetector.detect("/head/Gemm")).isEmpty();
    assertThat(BlockDetector.detect("/norm/layernorm/Add")).isEmpty();
    assertThat(BlockDetector.detect("/blocks_fused/MatMul")).isEmpty();
  }
}
