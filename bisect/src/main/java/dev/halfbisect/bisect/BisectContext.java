package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.OnnxModel;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything an analysis needs, as values: the model, the reference and candidate backends with
 * their build options ({@link ProbeBackends}), the tolerance, the input samples, the {@link
 * ObservationBudget}, and optionally a journal and a listener. One context owns one {@link Prober}
 * and one {@link ObservationChunks}, made from these values on first use (they never read the
 * context back), so reference values and decided probes are shared between the strategies run on it
 * (a full diagnosis runs the reference once).
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
  private final ProbeBackends backends;
  private final Tolerance tolerance;
  private final ImmutableList<ImmutableMap<String, Tensor>> samples;
  private final ObservationBudget budget;
  private final Optional<ProbeJournal> journal;
  private final BisectListener listener;
  private final ProbeRunner runner;
  private final ProbeKeys keys;
  private final ImmutableList<ImmutableMap<String, Tensor>> knownReference;
  private Prober prober;
  private ObservationChunks chunks;

  private BisectContext(Builder b) {
    this.model = b.model;
    this.backends = b.backends;
    this.tolerance = b.tolerance;
    this.samples =
        b.samples.stream().map(ImmutableMap::copyOf).collect(ImmutableList.toImmutableList());
    this.budget = b.budget;
    this.journal = Optional.ofNullable(b.journal);
    this.listener = b.listener;
    this.runner = b.runner != null ? b.runner : new SpiProbeRunner(model, backends);
    this.keys = new ProbeKeys(model, samples, backends, tolerance);
    this.knownReference =
        b.knownReference.stream()
            .map(ImmutableMap::copyOf)
            .collect(ImmutableList.toImmutableList());
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
    return new Builder(
        model, new ProbeBackends(reference, referenceOptions, candidate, candidateOptions));
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
    return builder(ModelGraph.of(model), reference, referenceOptions, candidate, candidateOptions);
  }

  public ModelGraph model() {
    return model;
  }

  /** The reference and candidate backends with their build options. */
  public ProbeBackends backends() {
    return backends;
  }

  /** The plan searches start from (the candidate options' plan). */
  public PrecisionPlan basePlan() {
    return backends.candidateOptions().plan();
  }

  public Tolerance tolerance() {
    return tolerance;
  }

  public ImmutableList<ImmutableMap<String, Tensor>> samples() {
    return samples;
  }

  /** What one build may observe, and the reference values layerwise keeps. */
  public ObservationBudget budget() {
    return budget;
  }

  public Optional<ProbeJournal> journal() {
    return journal;
  }

  public BisectListener listener() {
    return listener;
  }

  /** How observed tensors are split into builds under this context's budget (made on first use). */
  synchronized ObservationChunks chunks() {
    if (chunks == null) {
      chunks = ObservationChunks.of(model, samples, budget);
    }
    return chunks;
  }

  /** The probe engine of this context (created on first use). */
  public synchronized Prober prober() {
    if (prober == null) {
      ReferenceValues reference =
          new ReferenceValues(runner, chunks(), samples, listener, budget.referenceCacheBytes());
      reference.preload(knownReference);
      prober =
          new Prober(
              reference,
              runner,
              new DecidedProbes(keys, journal, model.name()),
              tolerance,
              listener);
    }
    return prober;
  }

  /** Builder of a {@link BisectContext}. */
  public static final class Builder {
    private final ModelGraph model;
    private final ProbeBackends backends;
    private Tolerance tolerance = Tolerance.fp16Default();
    private List<? extends Map<String, Tensor>> samples;
    private ProbeJournal journal;
    private BisectListener listener = BisectListener.NONE;
    private ObservationBudget budget = ObservationBudget.defaults();
    private ProbeRunner runner;
    private List<? extends Map<String, Tensor>> knownReference = List.of();

    private Builder(ModelGraph model, ProbeBackends backends) {
      this.model = Preconditions.checkNotNull(model, "model");
      this.backends = backends;
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

    /** The whole observation budget at once; default {@link ObservationBudget#defaults()}. */
    public Builder budget(ObservationBudget b) {
      this.budget = Preconditions.checkNotNull(b, "budget");
      return this;
    }

    /**
     * Observed tensors per build when their sizes are unknown (symbolic shapes); default {@value
     * BisectContext#DEFAULT_CHUNK_SIZE}. Each tensor without a static shape counts as {@code
     * chunkBytes / k} bytes, so such models are chunked {@code k} tensors per build.
     */
    public Builder chunkSize(int k) {
      this.budget = budget.withChunkSize(k);
      return this;
    }

    /**
     * Memory bound of one build: the float32 bytes of the tensors it observes, over all samples,
     * estimated from the static shapes the graph index infers; default 128 MiB. Small tensors are
     * packed into few builds, a tensor larger than the budget is observed alone.
     */
    public Builder chunkBytes(long bytes) {
      this.budget = budget.withChunkBytes(bytes);
      return this;
    }

    /**
     * Hard cap on tensors observed per build whatever their size; default {@value
     * BisectContext#DEFAULT_MAX_CHUNK_TENSORS}. A build that fails with many marked outputs is
     * still split in halves and retried.
     */
    public Builder maxChunkTensors(int k) {
      this.budget = budget.withMaxChunkTensors(k);
      return this;
    }

    /**
     * Reference values layerwise may keep after each chunk, in bytes over all samples (default
     * {@value BisectContext#DEFAULT_REFERENCE_CACHE_BYTES}), so that amplification, precision
     * search or first divergence on the same context need no new reference build for them.
     * Layerwise memory stays bounded by the chunk budget plus this; 0 keeps nothing.
     */
    public Builder referenceCacheBytes(long bytes) {
      this.budget = budget.withReferenceCacheBytes(bytes);
      return this;
    }

    /**
     * Reference values already known per sample (issue 17: outputs saved by an earlier run, e.g. a
     * TensorRT FP32 reference): the reference is never run for these tensors. The caller checks
     * that they belong to this model and these samples ({@code core.data.SavedOutputs}).
     */
    public Builder knownReference(List<? extends Map<String, Tensor>> values) {
      Preconditions.checkNotNull(values, "known reference values");
      this.knownReference = values;
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
      Preconditions.checkArgument(
          knownReference.isEmpty() || knownReference.size() == samples.size(),
          "known reference values for %s samples, but there are %s samples",
          knownReference.size(),
          samples.size());
      return new BisectContext(this);
    }
  }
}
