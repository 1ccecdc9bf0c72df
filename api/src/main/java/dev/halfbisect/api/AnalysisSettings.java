package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Everything a {@link HalfBisect} is configured with besides its model, as one immutable value.
 * {@link HalfBisect}'s fluent methods validate an option and return a copy made with {@link #with};
 * {@link Operations} reads the options from here. A new option is a component here, its builder
 * field, its fluent method and its use.
 *
 * @param inputSpecs inputs to generate, at most one per input name, in the order given
 * @param givenInputs tensors used as inputs in every sample
 * @param reference reference backend; null: the default, resolved when an operation runs
 * @param candidate candidate backend; null: the default
 * @param tolerance the verdict of each compared tensor
 * @param samples number of input samples (each tensor's worst sample decides)
 * @param seed seed of generated inputs
 * @param plan precision plan applied to the candidate
 * @param outDir folder for the files operations write; null: none written
 * @param listener progress of long operations
 * @param search precision-search options (build cap, pinning of overflowing nodes)
 * @param limits how much one build may observe
 * @param referenceOutputs golden outputs loaded instead of / saved from the reference (issue 17)
 * @param journal probe journal the operations resume from and append to; null: none (issue 16)
 * @param freshJournal start {@code journal} empty instead of resuming from it (issue 16)
 * @param sampleSet issue 15: samples loaded from files or text, in order (empty: none); inputs a
 *     sample lacks come from {@code givenInputs}, specs or derivation
 * @param holdout issue 15: samples the precision search keeps back to validate its plan; -1: the
 *     default (a quarter, at least 1, with 4 samples or more; none below), 0: none
 * @param headroom issue 15: share of FP16's largest finite value (65504) from which a tensor's
 *     reference magnitude is reported at risk
 * @param parallelism candidate probes of one round built at once (issue 18)
 * @param referenceCache folder of reference values kept between runs; null: none (issue 18)
 * @param searchOn where {@code precision} and {@code bisect} search (issue 18)
 * @param emulation the backend an emulation-first search runs on (issue 18); null for the one that
 *     emulates the candidate's type ({@link SearchOn#matchingEmulation})
 * @param maxEmulationBuilds build cap of an emulation-first search's emulation side ({@code
 *     search}'s cap counts the candidate's builds)
 * @param planFrom issue 19: a plan read from a converted model ({@code precision} shrinks it);
 *     null: none
 * @param price whether precision and diagnose time the plan they found (issue 20)
 * @param emulationParallelism emulation probes run at once (0: automatic, {@link #emulationJobs})
 * @param searchMargin share of the normalized-error bound a plan's outputs may use while {@code
 *     precision} searches (1: all of it); the verdict still holds the plan to the whole bound
 */
record AnalysisSettings(
    ImmutableList<InputSpec> inputSpecs,
    ImmutableMap<String, Tensor> givenInputs,
    BackendSpec reference,
    BackendSpec candidate,
    Tolerance tolerance,
    int samples,
    long seed,
    PrecisionPlan plan,
    Path outDir,
    ProgressListener listener,
    PrecisionSearch.Options search,
    ObservationLimits limits,
    ReferenceOutputs referenceOutputs,
    // issue 16: resumable runs
    Path journal,
    boolean freshJournal,
    ImmutableList<ImmutableMap<String, Tensor>> sampleSet,
    int holdout,
    double headroom,
    // issue 18: parallel probes, reference cache, emulation first
    int parallelism,
    Path referenceCache,
    SearchOn searchOn,
    BackendSpec emulation,
    int maxEmulationBuilds,
    PlanFrom planFrom,
    boolean price,
    int emulationParallelism,
    double searchMargin) {
  AnalysisSettings {
    Preconditions.checkArgument(
        searchMargin > 0 && searchMargin <= 1,
        "searchMargin must be in (0, 1], got %s",
        searchMargin);
    Preconditions.checkArgument(
        emulationParallelism >= 0,
        "emulationParallelism must be >= 0 (0: automatic), got %s",
        emulationParallelism);
    Preconditions.checkArgument(parallelism >= 1, "parallelism must be >= 1, got %s", parallelism);
    Preconditions.checkNotNull(searchOn, "searchOn");
    Preconditions.checkArgument(
        maxEmulationBuilds >= 1, "maxEmulationBuilds must be >= 1, got %s", maxEmulationBuilds);
    Preconditions.checkNotNull(inputSpecs, "input specs");
    Preconditions.checkNotNull(givenInputs, "given inputs");
    Preconditions.checkNotNull(tolerance, "tolerance");
    Preconditions.checkArgument(samples >= 1, "samples must be >= 1, got %s", samples);
    Preconditions.checkNotNull(plan, "plan");
    Preconditions.checkNotNull(listener, "listener");
    Preconditions.checkNotNull(search, "search options");
    Preconditions.checkNotNull(limits, "observation limits");
    Preconditions.checkNotNull(sampleSet, "sample set");
    Preconditions.checkArgument(holdout >= -1, "holdout must be >= 0, got %s", holdout);
    Preconditions.checkArgument(
        headroom > 0 && headroom <= 1, "headroom must be in (0, 1], got %s", headroom);
  }

  /**
   * The backend an emulation-first search runs on: the one given, else the emulation of the
   * candidate's low-precision type and typing ({@code trt:bf16-strong} is searched on {@code
   * ort:bf16-strong-emulated}, not on FP16).
   */
  @Override
  public BackendSpec emulation() {
    return emulation != null ? emulation : SearchOn.matchingEmulation(candidate);
  }

  /**
   * Emulation probes of one round run at once in an emulation-first search: the one given, else
   * {@code max(parallelism, min(4, cores / 4))}. An emulation probe is a CPU session of ONNX
   * Runtime, so it runs side by side even when TensorRT builds one at a time (on one GPU they do
   * not overlap; docs/PERFORMANCE.md); the plan is the one a sequential search finds.
   */
  public int emulationJobs() {
    if (emulationParallelism > 0) {
      return emulationParallelism;
    }
    int cores = Runtime.getRuntime().availableProcessors();
    return Math.max(parallelism, Math.max(1, Math.min(4, cores / 4)));
  }

  /** Whether the emulation was chosen by the caller rather than matched to the candidate. */
  public boolean emulationGiven() {
    return emulation != null;
  }

  /** Default share of 65504 from which a tensor is at risk (issue 15). */
  static final double DEFAULT_HEADROOM = 0.5;

  /**
   * Default build cap of the emulation side of an emulation-first precision search: an emulation
   * probe costs a fraction of a second to a few seconds on the CPU, a TensorRT build up to a
   * minute, so the emulation may search far longer than the candidate's default cap of 60 builds.
   */
  static final int DEFAULT_MAX_EMULATION_BUILDS = 400;

  /**
   * No inputs given, default backends, {@link Tolerance#fp16Default()}, one sample, seed 0, the
   * all-FP16 plan, no output folder, no listener, the bisect module's search and observation
   * defaults.
   */
  static AnalysisSettings defaults() {
    return new Builder().build();
  }

  Builder toBuilder() {
    return new Builder(this);
  }

  /** A copy with {@code change} applied to a builder over this value. */
  AnalysisSettings with(Consumer<Builder> change) {
    Builder b = toBuilder();
    change.accept(b);
    return b.build();
  }

  /**
   * Mutable, one-use assembly of {@link AnalysisSettings}, starting from the defaults or from a
   * value ({@link #toBuilder()}); its fields are the components, set directly. {@link #build()}
   * checks them.
   */
  static final class Builder {
    final List<InputSpec> inputSpecs = new ArrayList<>();
    final Map<String, Tensor> givenInputs = new LinkedHashMap<>();
    BackendSpec reference;
    BackendSpec candidate;
    Tolerance tolerance = Tolerance.fp16Default();
    int samples = 1;
    long seed;
    PrecisionPlan plan = PrecisionPlan.allFp16();
    Path outDir;
    ProgressListener listener = ProgressListener.NONE;
    PrecisionSearch.Options search = PrecisionSearch.Options.defaults();
    ObservationLimits limits = ObservationLimits.defaults();
    ReferenceOutputs referenceOutputs = ReferenceOutputs.none();
    // issue 16: resumable runs
    Path journal;
    boolean freshJournal;
    // issue 15: sample sets, holdout, headroom
    final List<ImmutableMap<String, Tensor>> sampleSet = new ArrayList<>();
    int holdout = -1;
    double headroom = DEFAULT_HEADROOM;
    // issue 18
    int parallelism = 1;
    Path referenceCache;
    SearchOn searchOn = SearchOn.AUTO;
    BackendSpec
        emulation; // null: the emulation of the candidate's type (SearchOn.matchingEmulation)
    int maxEmulationBuilds = DEFAULT_MAX_EMULATION_BUILDS;
    PlanFrom planFrom; // issue 19
    boolean price = true; // issue 20
    int emulationParallelism; // 0: automatic (emulationJobs())
    double searchMargin = 1; // the whole bound

    private Builder() {}

    private Builder(AnalysisSettings s) {
      inputSpecs.addAll(s.inputSpecs);
      givenInputs.putAll(s.givenInputs);
      reference = s.reference;
      candidate = s.candidate;
      tolerance = s.tolerance;
      samples = s.samples;
      seed = s.seed;
      plan = s.plan;
      outDir = s.outDir;
      listener = s.listener;
      search = s.search;
      limits = s.limits;
      referenceOutputs = s.referenceOutputs;
      journal = s.journal; // issue 16
      freshJournal = s.freshJournal;
      sampleSet.addAll(s.sampleSet);
      holdout = s.holdout;
      headroom = s.headroom;
      parallelism = s.parallelism;
      referenceCache = s.referenceCache;
      searchOn = s.searchOn;
      emulation = s.emulation;
      maxEmulationBuilds = s.maxEmulationBuilds;
      planFrom = s.planFrom;
      price = s.price;
      emulationParallelism = s.emulationParallelism;
      searchMargin = s.searchMargin;
    }

    /** Adds an input spec, replacing an earlier one of the same input. */
    void inputSpec(InputSpec s) {
      inputSpecs.removeIf(x -> x.name().equals(s.name()));
      inputSpecs.add(s);
    }

    AnalysisSettings build() {
      return new AnalysisSettings(
          ImmutableList.copyOf(inputSpecs),
          ImmutableMap.copyOf(givenInputs),
          reference,
          candidate,
          tolerance,
          samples,
          seed,
          plan,
          outDir,
          listener,
          search,
          limits,
          referenceOutputs,
          journal, // issue 16
          freshJournal,
          ImmutableList.copyOf(sampleSet),
          holdout,
          headroom,
          parallelism,
          referenceCache,
          searchOn,
          emulation,
          maxEmulationBuilds,
          planFrom,
          price,
          emulationParallelism,
          searchMargin);
    }
  }
}
