package dev.halfbisect.report.blocks;

import com.google.common.base.Preconditions;

/**
 * A repeated block of a network (transformer layer, residual block ...).
 *
 * @param label the name prefix that identifies it, e.g. {@code blocks.5} or {@code encoder/layer.3}
 * @param index the block's number as written in the name (the innermost one when nested)
 */
public record BlockId(String label, int index) {
  public BlockId {
    Preconditions.checkArgument(!label.isEmpty(), "empty block label");
    Preconditions.checkArgument(index >= 0, "negative block index %s", index);
  }
}
