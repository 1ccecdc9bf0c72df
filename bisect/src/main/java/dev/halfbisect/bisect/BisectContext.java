package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.OnnxModel;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything an analysis needs: the model, the reference and candidate backends with their build
 * options, the tolerance, the input samples, and optionally a journal and a listener. One context
 * holds one {@link Prober}, so reference values and decided probes are shared between the
 * strategies run on it (a full diagnosis runs the reference once).
 */
public final class BisectContext {
  /**
   * Default number of tensors observed per build when their sizes are unknown (symbolic shapes):
   * each such tensor counts as {@code chunkBytes / chunkSize} bytes of the byte budget.
   */
  public static final int DEFAULT_CHUNK_SIZE = 256;

  /**
   * Default byte budget per build: float32 bytes of the observed tensors over all samples, 128 MiB.
   */
  public static final long DEFAULT_CHUNK_BYTES = 128L << 20;

  /** Default bytes of reference values layerwise keeps for later strategies. */
  public static final long DEFAULT_REFERENCE_CACHE_BYTES = 256L << 20;

  /** Default hard cap on tensors observed per build, whatever their size. */
  public static final int DEFAULT_MAX_CHUNK_TENSORS = 16_384;

  private final ModelGraph model;
  private final Backend reference;
  private final BuildOptions referenceOptions;
  private final Backend candidate;
  private final BuildOptions candidateOptions;
  private final Tolerance tolerance;
  private final ImmutableList<ImmutableMap<String, Tensor>> samples;
  private final ProbeJournal journal;
  private final BisectListener listener;
  private final int chunkSize;
  private final long chunkBytes;
  private final long referenceCacheBytes;
  private final int maxChunkTensors;
  private final ProbeRunner runner;
  private final String samplesHash;
  private Prober prober;
  private ObservationChunks chunks;

  private BisectContext(Builder b) {
    this.model = b.model;
    this.reference = b.reference;
    this.referenceOptions = b.referenceOptions;
    this.candidate = b.candidate;
    this.candidateOptions = b.candidateOptions;
    this.tolerance = b.tolerance;
    this.samples =
        b.samples.stream().map(ImmutableMap::copyOf).collect(ImmutableList.toImmutableList());
    this.journal = b.journal;
    this.listener = b.listener;
    this.chunkSize = b.chunkSize;
    this.chunkBytes = b.chunkBytes;
    this.referenceCacheBytes = b.referenceCacheBytes;
    this.maxChunkTensors = b.maxChunkTensors;
    this.runner =
        b.runner != null
            ? b.runner
            : new SpiProbeRunner(model, reference, referenceOptions, candidate, candidateOptions);
    this.samplesHash = hashSamples(samples);
  }

  /**
   * Starts a context. {@code referenceOptions} and {@code candidateOptions} carry the modes (e.g.
   * {@code fp32} and {@code fp16-emulated}); the candidate's plan is the base every search adds
   * pins to.
   */
  public static Builder builder(
      ModelGraph model,
      Backend reference,
      BuildOptions referenceOptions,
      Backend candidate,
      BuildOptions candidateOptions) {
    return new Builder(model, reference, referenceOptions, candidate, candidateOptions);
  }

  /**
   * {@link #builder(ModelGraph, Backend, BuildOptions, Backend, BuildOptions)} over an {@link
   * OnnxModel}.
   */
  public static Builder builder(
      OnnxModel model,
      Backend reference,
      BuildOptions referenceOptions,
      Backend candidate,
      BuildOptions candidateOptions) {
    return new Builder(
        ModelGraph.of(model), reference, referenceOptions, candidate, candidateOptions);
  }

  public ModelGraph model() {
    return model;
  }

  public Backend reference() {
    return reference;
  }

  public BuildOptions referenceOptions() {
    return referenceOptions;
  }

  public Backend candidate() {
    return candidate;
  }

  public BuildOptions candidateOptions() {
    return candidateOptions;
  }

  /** The plan searches start from (the candidate options' plan). */
  public PrecisionPlan basePlan() {
    return candidateOptions.plan();
  }

  public Tolerance tolerance() {
    return tolerance;
  }

  public ImmutableList<ImmutableMap<String, Tensor>> samples() {
    return samples;
  }

  public java.util.Optional<ProbeJournal> journal() {
    return java.util.Optional.ofNullable(journal);
  }

  public BisectListener listener() {
    return listener;
  }

  /** Tensors per build when their sizes are unknown (see {@link Builder#chunkSize}). */
  public int chunkSize() {
    return chunkSize;
  }

  /**
   * Bytes of layerwise reference values kept for later strategies (see {@link
   * Builder#referenceCacheBytes}).
   */
  public long referenceCacheBytes() {
    return referenceCacheBytes;
  }

  /** Byte budget per build (see {@link Builder#chunkBytes}). */
  public long chunkBytes() {
    return chunkBytes;
  }

  /** Hard cap on tensors observed per build (see {@link Builder#maxChunkTensors}). */
  public int maxChunkTensors() {
    return maxChunkTensors;
  }

  /** How observed tensors are split into builds under this context's budget (made on first use). */
  synchronized ObservationChunks chunks() {
    if (chunks == null) {
      chunks = ObservationChunks.of(this);
    }
    return chunks;
  }

  ProbeRunner runner() {
    return runner;
  }

  String samplesHash() {
    return samplesHash;
  }

  /** The probe engine of this context (created on first use). */
  public synchronized Prober prober() {
    if (prober == null) {
      prober = new Prober(this);
    }
    return prober;
  }

  private static String hashSamples(List<ImmutableMap<String, Tensor>> samples) {
    Hasher h = Hashing.sha256().newHasher();
    for (Map<String, Tensor> s : samples) {
      for (Map.Entry<String, Tensor> e : new TreeMap<>(s).entrySet()) {
        h.putUnencodedChars(e.getKey()).putInt(e.getValue().dtype().onnxCode());
        for (long d : e.getValue().shape()) {
          h.putLong(d);
        }
        h.putBytes(e.getValue().bytes().duplicate());
      }
      h.putChar('|');
    }
    return h.hash().toString().substring(0, 16);
  }

  /** Builder of a {@link BisectContext}. */
  public static final class Builder {
    private final ModelGraph model;
    private final Backend reference;
    private final BuildOptions referenceOptions;
    private final Backend candidate;
    private final BuildOptions candidateOptions;
    private Tolerance tolerance = Tolerance.fp16Default();
    private List<? extends Map<String, Tensor>> samples;
    private ProbeJournal journal;
    private BisectListener listener = BisectListener.NONE;
    private int chunkSize = DEFAULT_CHUNK_SIZE;
    private long chunkBytes = DEFAULT_CHUNK_BYTES;
    private long referenceCacheBytes = DEFAULT_REFERENCE_CACHE_BYTES;
    private int maxChunkTensors = DEFAULT_MAX_CHUNK_TENSORS;
    private ProbeRunner runner;

    private Builder(
        ModelGraph model,
        Backend reference,
        BuildOptions referenceOptions,
        Backend candidate,
        BuildOptions candidateOptions) {
      this.model = Preconditions.checkNotNull(model, "model");
      this.reference = Preconditions.checkNotNull(reference, "reference");
      this.referenceOptions = Preconditions.checkNotNull(referenceOptions, "referenceOptions");
      this.candidate = Preconditions.checkNotNull(candidate, "candidate");
      this.candidateOptions = Preconditions.checkNotNull(candidateOptions, "candidateOptions");
    }

    /** The verdict per tensor; default {@link Tolerance#fp16Default()}. */
    public Builder tolerance(Tolerance t) {
      this.tolerance = Preconditions.checkNotNull(t, "tolerance");
      return this;
    }

    /** Input samples (graph input name to tensor), at least one. */
    public Builder samples(List<? extends Map<String, Tensor>> s) {
      Preconditions.checkArgument(s != null && !s.isEmpty(), "at least one input sample is needed");
      this.samples = s;
      return this;
    }

    public Builder journal(ProbeJournal j) {
      this.journal = j;
      return this;
    }

    public Builder listener(BisectListener l) {
      this.listener = Preconditions.checkNotNull(l, "listener");
      return this;
    }

    /**
     * Observed tensors per build when their sizes are unknown (symbolic shapes); default {@value
     * BisectContext#DEFAULT_CHUNK_SIZE}. Each tensor without a static shape counts as {@code
     * chunkBytes / k} bytes, so such models are chunked {@code k} tensors per build.
     */
    public Builder chunkSize(int k) {
      Preconditions.checkArgument(k >= 1, "chunk size must be >= 1, got %s", k);
      this.chunkSize = k;
      return this;
    }

    /**
     * Memory bound of one build: the float32 bytes of the tensors it observes, over all samples,
     * estimated from the static shapes the graph index infers; default 128 MiB. Small tensors are
     * packed into few builds, a tensor larger than the budget is observed alone.
     */
    /**
     * Reference values layerwise may keep after each chunk, in bytes over all samples (default
     * {@value BisectContext#DEFAULT_REFERENCE_CACHE_BYTES}), so that amplification, precision
     * search or first divergence on the same context need no new reference build for them.
     * Layerwise memory stays bounded by the chunk budget plus this; 0 keeps nothing.
     */
    public Builder referenceCacheBytes(long bytes) {
      Preconditions.checkArgument(bytes >= 0, "reference cache bytes must be >= 0, got %s", bytes);
      this.referenceCacheBytes = bytes;
      return this;
    }

    public Builder chunkBytes(long bytes) {
      Preconditions.checkArgument(bytes >= 1, "chunk byte budget must be >= 1 byte, got %s", bytes);
      this.chunkBytes = bytes;
      return this;
    }

    /**
     * Hard cap on tensors observed per build whatever their size; default {@value
     * BisectContext#DEFAULT_MAX_CHUNK_TENSORS}. A build that fails with many marked outputs is
     * still split in halves and retried.
     */
    public Builder maxChunkTensors(int k) {
      Preconditions.checkArgument(k >= 1, "max tensors per build must be >= 1, got %s", k);
      this.maxChunkTensors = k;
      return this;
    }

    /** Replaces the SPI runner (tests, remote runners). */
    public Builder runner(ProbeRunner r) {
      this.runner = r;
      return this;
    }

    public BisectContext build() {
      Preconditions.checkState(samples != null, "samples must be set");
      for (String in : model.graphInputs()) {
        for (int i = 0; i < samples.size(); i++) {
          Preconditions.checkArgument(
              samples.get(i).containsKey(in),
              "sample %s lacks graph input '%s' of model %s (it has %s)",
              i,
              in,
              model.name(),
              samples.get(i).keySet());
        }
      }
      return new BisectContext(this);
    }
  }
}
