package dev.halfbisect.cli;

import dev.halfbisect.api.PerfOptions;
import dev.halfbisect.report.render.PerfTable;
import java.util.List;

/**
 * Issue 20: the table each model family's investigation printed, for {@code demo --example NAME
 * --model MY.onnx}: the CLIP ViT table (fp32/tf32/fp16 max abs, median rel and speed-up per batch),
 * the super-resolution / segmentation table (batch, width, height, latency, throughput, max/median/
 * mean abs and rel) and the full perf table for the others.
 */
final class FamilyTables {
  private FamilyTables() {}

  /** The layout of {@code example}'s table. */
  static PerfTable.Layout layout(String example) {
    switch (example) {
      case "clip-vit":
        return PerfTable.Layout.VIT;
      case "elan-sr":
      case "unet":
        return PerfTable.Layout.SR;
      default:
        return PerfTable.Layout.FULL;
    }
  }

  /** fp32, tf32 and fp16 at {@code batches} (empty: the inputs' own batch). */
  static PerfOptions options(List<Integer> batches) {
    return PerfOptions.defaults()
        .withPrecisions(List.of("fp32", "tf32", "fp16"))
        .withBatches(batches);
  }
}
