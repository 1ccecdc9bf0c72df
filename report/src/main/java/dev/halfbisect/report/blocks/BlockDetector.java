package dev.halfbisect.report.blocks;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the block a node belongs to from its name. Exporters write the module path into node names:
 * torch.onnx ({@code /blocks/blocks.5/attn/qkv/MatMul}, {@code /encoder/layer.3/output/Add}), torch
 * state-dict style ({@code encoder.layer.3.attention}, {@code model.layers.11.mlp}), CLIP ({@code
 * /transformer/resblocks.7/attn}), diffusers ({@code /down_blocks.2/resnets.1/conv1}), GPT-2
 * ({@code /transformer/h.3/}), T5 ({@code /encoder/block.1/}), tf2onnx ({@code layer_3}).
 *
 * <p>A block is a known container word ({@code blocks, block, layers, layer, resblocks, h, stages,
 * down_blocks, up_blocks, mid_block, transformer_blocks, resnets, attentions, encoder_layers ...})
 * followed by {@code .N} or {@code _N} as a whole path segment. The label is the name up to the
 * last such match, without a leading '/', with the container's repeated parent folded ({@code
 * blocks/blocks.5} becomes {@code blocks.5}); nested containers (Swin {@code layers.1/blocks.0})
 * give the innermost block. Names without a container (e.g. {@code MatMul_12}) have no block.
 */
public final class BlockDetector {
  private static final Pattern CONTAINER =
      Pattern.compile(
          "(?<=^|[/.])(?:down_blocks|up_blocks|mid_blocks?|transformer_blocks|res_blocks|resblocks"
              + "|resnets|attentions|encoder_layers?|decoder_layers?|layer_stack|blocks?|layers?|stages?"
              + "|h)[._](\\d+)(?=$|[/._:])",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern REPEATED_PARENT = Pattern.compile("(^|/)([^/]+)/\\2(?=[._]\\d)");

  private BlockDetector() {}

  /** The block of a node (or tensor) name, if the name carries one. */
  public static Optional<BlockId> detect(String name) {
    Matcher m = CONTAINER.matcher(name);
    int end = -1;
    String number = null;
    while (m.find()) {
      end = m.end();
      number = m.group(1);
    }
    if (end < 0) {
      return Optional.empty();
    }
    String label = name.substring(0, end);
    while (label.startsWith("/")) {
      label = label.substring(1);
    }
    label = REPEATED_PARENT.matcher(label).replaceAll("$1$2");
    int index;
    try {
      index = Integer.parseInt(number);
    } catch (NumberFormatException e) {
      return Optional.empty(); // absurdly long digit run: not a block number
    }
    return label.isEmpty() ? Optional.empty() : Optional.of(new BlockId(label, index));
  }
}
