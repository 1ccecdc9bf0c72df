package dev.halfbisect.report.blocks;

/** The columns of the block table: the tensors of a transformer block an engineer looks at. */
public enum Checkpoint {
  /**
   * Attention sub-layer output (residual sum feeding the LayerNorm before the MLP), or the Softmax.
   */
  ATTENTION("attention"),
  /** The LayerNorm feeding FC1. */
  LAYERNORM("LayerNorm"),
  /** First MLP linear layer (with its bias). */
  FC1("FC1"),
  /** MLP activation (GELU, also ReLU/SiLU). */
  GELU("GELU"),
  /** Second MLP linear layer. */
  FC2("FC2"),
  /** Last tensor of the block. */
  OUTPUT("block output");

  private final String title;

  Checkpoint(String title) {
    this.title = title;
  }

  /** Column title. */
  public String title() {
    return title;
  }
}
