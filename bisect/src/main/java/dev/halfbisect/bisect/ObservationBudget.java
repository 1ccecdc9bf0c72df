package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;

/**
 * How much one build may observe, and how many reference values layerwise keeps for the strategies
 * after it. Bounds the memory of layerwise, the reference runs and amplification.
 *
 * @param chunkBytes float32 bytes of the observed tensors over all samples per build, estimated
 *     from the static shapes the graph index infers; a tensor larger than this is observed alone
 * @param chunkSize tensors per build when their sizes are unknown (symbolic shapes): each such
 *     tensor counts as {@code chunkBytes / chunkSize} bytes
 * @param maxChunkTensors hard cap on tensors observed per build, whatever their size
 * @param referenceCacheBytes reference values layerwise may keep after each chunk, in bytes over
 *     all samples (topological order), so that later strategies need no new reference build for
 *     them; 0 keeps nothing
 */
public record ObservationBudget(
    long chunkBytes, int chunkSize, int maxChunkTensors, long referenceCacheBytes) {
  public ObservationBudget {
    Preconditions.checkArgument(
        chunkBytes >= 1, "chunk byte budget must be >= 1 byte, got %s", chunkBytes);
    Preconditions.checkArgument(chunkSize >= 1, "chunk size must be >= 1, got %s", chunkSize);
    Preconditions.checkArgument(
        maxChunkTensors >= 1, "max tensors per build must be >= 1, got %s", maxChunkTensors);
    Preconditions.checkArgument(
        referenceCacheBytes >= 0,
        "reference cache bytes must be >= 0, got %s",
        referenceCacheBytes);
  }

  /** The defaults of {@link BisectContext} ({@code DEFAULT_*}). */
  public static ObservationBudget defaults() {
    return new ObservationBudget(
        BisectContext.DEFAULT_CHUNK_BYTES,
        BisectContext.DEFAULT_CHUNK_SIZE,
        BisectContext.DEFAULT_MAX_CHUNK_TENSORS,
        BisectContext.DEFAULT_REFERENCE_CACHE_BYTES);
  }

  public ObservationBudget withChunkBytes(long bytes) {
    return new ObservationBudget(bytes, chunkSize, maxChunkTensors, referenceCacheBytes);
  }

  public ObservationBudget withChunkSize(int k) {
    return new ObservationBudget(chunkBytes, k, maxChunkTensors, referenceCacheBytes);
  }

  public ObservationBudget withMaxChunkTensors(int k) {
    return new ObservationBudget(chunkBytes, chunkSize, k, referenceCacheBytes);
  }

  public ObservationBudget withReferenceCacheBytes(long bytes) {
    return new ObservationBudget(chunkBytes, chunkSize, maxChunkTensors, bytes);
  }

  /** What a tensor of unknown size counts against {@link #chunkBytes()}. */
  long unknownTensorBytes() {
    return Math.max(1, chunkBytes / chunkSize);
  }
}
