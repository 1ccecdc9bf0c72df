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

/**
 * Everything a {@link HalfBisect} is configured with besides its model, as one immutable value.
 * {@link HalfBisect}'s fluent methods validate an option and return a copy over {@link
 * #toBuilder()}; {@link Operations} reads the options from here. A new option is a component here,
 * its builder setter, its fluent method and its use.
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
    ObservationLimits limits) {
  AnalysisSettings {
    Preconditions.checkNotNull(inputSpecs, "input specs");
    Preconditions.checkNotNull(givenInputs, "given inputs");
    Preconditions.checkNotNull(tolerance, "tolerance");
    Preconditions.checkArgument(samples >= 1, "samples must be >= 1, got %s", samples);
    Preconditions.checkNotNull(plan, "plan");
    Preconditions.checkNotNull(listener, "listener");
    Preconditions.checkNotNull(search, "search options");
    Preconditions.checkNotNull(limits, "observation limits");
  }

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

  /** Mutable, one-use assembly of {@link AnalysisSettings}; starts from the defaults. */
  static final class Builder {
    private final List<InputSpec> inputSpecs = new ArrayList<>();
    private final Map<String, Tensor> givenInputs = new LinkedHashMap<>();
    private BackendSpec reference;
    private BackendSpec candidate;
    private Tolerance tolerance = Tolerance.fp16Default();
    private int samples = 1;
    private long seed;
    private PrecisionPlan plan = PrecisionPlan.allFp16();
    private Path outDir;
    private ProgressListener listener = ProgressListener.NONE;
    private PrecisionSearch.Options search = PrecisionSearch.Options.defaults();
    private ObservationLimits limits = ObservationLimits.defaults();

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
    }

    /** Adds an input spec, replacing an earlier one of the same input. */
    Builder inputSpec(InputSpec s) {
      inputSpecs.removeIf(x -> x.name().equals(s.name()));
      inputSpecs.add(s);
      return this;
    }

    /** Adds given input tensors, replacing earlier ones of the same names. */
    Builder givenInputs(Map<String, Tensor> tensors) {
      givenInputs.putAll(tensors);
      return this;
    }

    Builder reference(BackendSpec s) {
      reference = s;
      return this;
    }

    Builder candidate(BackendSpec s) {
      candidate = s;
      return this;
    }

    Builder tolerance(Tolerance t) {
      tolerance = t;
      return this;
    }

    Builder samples(int n) {
      samples = n;
      return this;
    }

    Builder seed(long s) {
      seed = s;
      return this;
    }

    Builder plan(PrecisionPlan p) {
      plan = p;
      return this;
    }

    Builder outDir(Path dir) {
      outDir = dir;
      return this;
    }

    Builder listener(ProgressListener l) {
      listener = l;
      return this;
    }

    Builder search(PrecisionSearch.Options o) {
      search = o;
      return this;
    }

    Builder limits(ObservationLimits l) {
      limits = l;
      return this;
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
          limits);
    }
  }
}
