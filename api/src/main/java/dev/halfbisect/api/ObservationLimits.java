package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import dev.halfbisect.bisect.BisectContext;

/**
 * How much one build may observe: the float32 bytes of the observed tensors over all samples, and a
 * cap on their number. Bounds the memory of layerwise and amplification; larger budgets mean fewer
 * builds (a 100k-node chain: 7 builds of 16,384 tensors instead of 400 of 256).
 *
 * @param bytesPerBuild estimated bytes of observed tensors per build (default 128 MiB)
 * @param maxTensorsPerBuild at most this many observed tensors per build (default 16,384)
 * @param referenceCacheBytes reference values layerwise keeps for the strategies after it, e.g.
 *     amplification in a diagnosis (default 256 MiB; 0 keeps none)
 */
public record ObservationLimits(
    long bytesPerBuild, int maxTensorsPerBuild, long referenceCacheBytes) {
  public ObservationLimits {
    Preconditions.checkArgument(
        referenceCacheBytes >= 0,
        "reference cache bytes must be >= 0, got %s",
        referenceCacheBytes);
    Preconditions.checkArgument(
        bytesPerBuild >= 1, "observed bytes per build must be >= 1, got %s", bytesPerBuild);
    Preconditions.checkArgument(
        maxTensorsPerBuild >= 1,
        "observed tensors per build must be >= 1, got %s",
        maxTensorsPerBuild);
  }

  /** The bisect module's defaults. */
  public static ObservationLimits defaults() {
    return new ObservationLimits(
        BisectContext.DEFAULT_CHUNK_BYTES,
        BisectContext.DEFAULT_MAX_CHUNK_TENSORS,
        BisectContext.DEFAULT_REFERENCE_CACHE_BYTES);
  }

  void applyTo(BisectContext.Builder b) {
    b.chunkBytes(bytesPerBuild)
        .maxChunkTensors(maxTensorsPerBuild)
        .referenceCacheBytes(referenceCacheBytes);
  }
}
