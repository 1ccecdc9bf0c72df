package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.BisectContext;
import dev.halfbisect.bisect.BisectListener;
import dev.halfbisect.bisect.EmulationFirst;
import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.bisect.ProbeJournal;
import dev.halfbisect.bisect.ProbeResult;
import dev.halfbisect.bisect.ProbeSpec;
import dev.halfbisect.bisect.Reduce;
import dev.halfbisect.bisect.ReferenceStore;
import dev.halfbisect.bisect.TensorComparison;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.io.UnsafeTargetException;
import dev.halfbisect.core.plan.BuildRecipe;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.CheckMode;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.report.mapping.ParseTimeNotes;
import dev.halfbisect.report.mapping.ReportMapper;
import dev.halfbisect.report.mapping.RootCauseAnalyzer;
import dev.halfbisect.report.mapping.SampleMapping;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.ExecutionView;
import dev.halfbisect.report.model.OutputPassRate;
import dev.halfbisect.report.model.SampleSummary;
import dev.halfbisect.report.model.SearchView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Runs one facade operation on the bisect module's strategies and maps the result with the report
 * module: a preflight build of the reference (so that an unreadable model or a missing backend is
 * an error, not an empty report), then the strategy on a fresh {@link BisectContext}. Sessions are
 * opened and closed by the strategies' probe runner; nothing native outlives the call.
 */
final class Operations implements AutoCloseable {
  private final ModelGraph graph;
  private final AnalysisSettings settings;
  private final List<Map<String, Tensor>> samples;
  private final List<String> notes;
  private ProbeJournal journal; // issue 16: opened by the first context, closed with this
  // issue 18: emulation first's journals beside it, one file per bound the emulation searched at
  private final Map<Path, ProbeJournal> emulationJournals = new java.util.LinkedHashMap<>();
  private final List<BisectContext> emulationContexts =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private ReferenceStore store;
  private boolean sharedReference; // an emulation-first bisect or precision (issue 18)
  // precision's bound while it searches (--search-margin); null: the verdict's own
  private Tolerance searchBound;
  private final InputPlan.Prepared inputs;

  /**
   * @param settings with both backends resolved
   * @param inputs the samples and the notes on them; notes the operation adds (files not written)
   *     join them in the report's warnings
   */
  Operations(ModelGraph graph, AnalysisSettings settings, InputPlan.Prepared inputs) {
    this.graph = graph;
    this.settings = settings;
    this.samples = inputs.samples();
    this.notes = new ArrayList<>(inputs.notes());
    this.inputs = inputs;
  }

  AnalysisSettings settings() {
    return settings;
  }

  InputPlan.Prepared inputs() {
    return inputs;
  }

  CompareResult compare() {
    BisectContext ctx = context();
    Layerwise.Result r = Layerwise.run(ctx, t -> false, settings.headroom()); // graph outputs only
    return new CompareResult(
        finish(ctx, withEvidence(ReportMapper.from(header("compare", ctx), r), r)), r, null);
  }

  /**
   * Compare; when the outputs fail, layerwise and amplify on the same context (issue 17): the
   * reference values and the candidate's full build are reused, so explaining a failure repeats no
   * build.
   */
  CompareResult compareAndExplain() {
    BisectContext ctx = context();
    Layerwise.Result r = Layerwise.run(ctx, t -> false, settings.headroom());
    AnalysisReport compareReport = withEvidence(ReportMapper.from(header("compare", ctx), r), r);
    DiagnosisResult why = r.outputsPass() ? null : diagnose(ctx, false);
    return new CompareResult(finish(ctx, compareReport), r, why);
  }

  LayerwiseResult layerwise() {
    BisectContext ctx = context();
    Layerwise.Result r = Layerwise.run(ctx, t -> true, settings.headroom());
    return new LayerwiseResult(
        finish(ctx, withEvidence(ReportMapper.from(header("layerwise", ctx), r), r)), r);
  }

  // issue 15: per-sample pass rates, headroom, holdout, search stop

  /** {@code report} with the sample pass rates of the outputs and the headroom of {@code lw}. */
  private AnalysisReport withEvidence(AnalysisReport report, Layerwise.Result lw) {
    Map<String, TensorComparison> outputs = new LinkedHashMap<>();
    Map<String, Boolean> verdicts = new HashMap<>();
    for (Layerwise.TensorReport t : lw.tensors()) {
      verdicts.put(t.tensor(), t.pass());
      if (graph.graphOutputs().contains(t.tensor())) {
        outputs.put(t.tensor(), t.error());
      }
    }
    AnalysisReport.Builder b =
        report.toBuilder()
            .headroom(
                SampleMapping.headroom(
                    settings.headroom(), lw.atRisk(), t -> verdicts.getOrDefault(t, Boolean.TRUE)));
    if (!outputs.isEmpty()) {
      b.samples(SampleMapping.summary(outputs, settings.tolerance()));
    }
    return RootCauseAnalyzer.withInputCauses(b.build());
  }

  /** The samples held out of a precision search: {@code settings.holdout()} or the default. */
  static int holdoutCount(int requested, int samples) {
    if (requested >= 0) {
      return requested;
    }
    return samples >= 4 ? Math.max(1, samples / 4) : 0;
  }

  BisectResult bisect() {
    boolean emulationFirst = emulationFirst();
    sharedReference = emulationFirst;
    BisectContext ctx = context();
    if (emulationFirst) {
      BisectContext emu = context(settings.emulation());
      EmulationFirst.Bisect eb =
          EmulationFirst.bisect(emu, ctx, FirstDivergence.Refinement.WITHIN_BOUND);
      noteEmulationResumed();
      AnalysisReport rep = finish(ctx, ReportMapper.from(header("bisect", ctx), eb.result()));
      return new BisectResult(
          withEmulation(rep, eb.emulationBuilds(), emu.prober().parallelism()), eb.result());
    }
    FirstDivergence.Result r = FirstDivergence.search(ctx);
    return new BisectResult(finish(ctx, ReportMapper.from(header("bisect", ctx), r)), r);
  }

  /**
   * The emulation over {@code on} with the normalized-error bound divided by {@code factor}, for
   * emulation first's calibrated retry; empty for a Polygraphy-style or per-tensor check, whose
   * bounds do not scale with one ratio.
   */
  private Optional<BisectContext> stricterEmulation(List<Map<String, Tensor>> on, double factor) {
    Tolerance t = searchTolerance();
    if (!oneNormalizedBound(t)) {
      return Optional.empty();
    }
    BisectContext.Builder b =
        contextBuilder(on, settings.emulation(), settings.plan())
            .tolerance(Tolerance.normalized(t.maxNormalizedError() / factor));
    emulationJournal(factor).ifPresent(b::journal);
    BisectContext ctx = b.build();
    emulationContexts.add(ctx);
    preflight(ctx);
    return Optional.of(ctx);
  }

  /** The emulation that models weak-typed TensorRT's FP16 MatMul accumulation (issue 18). */
  static final BackendSpec ACC16_EMULATION = BackendSpec.parse("ort:fp16-acc16-emulated");

  /** Which way an emulation-first precision search went, in one line for the report. */
  static String emulationFirstNote(
      EmulationFirst.Precision ep, BackendSpec emulation, BackendSpec candidate, int jobs) {
    String head =
        "emulation first ("
            + emulation
            + (jobs > 1 ? ", " + jobs + " emulation probes at a time" : "")
            + "): ";
    if (ep.calibrated()) {
      return head
          + String.format(
              Locale.ROOT,
              "the candidate failed the emulation's plan; its outputs err %.2fx the emulation's (the"
                  + " larger ratio of the all-FP16 outputs' and that plan's), so the emulation"
                  + " searched again at a stricter bound; %s",
              ep.calibration(),
              ep.nominal()
                  ? String.format(
                      Locale.ROOT,
                      "the candidate passed the plan found at %.2fx and removed what it did not"
                          + " need",
                      ep.factor())
                  : String.format(
                      Locale.ROOT,
                      "the candidate failed that plan too and passed the one found at %.2fx, then"
                          + " shrank it",
                      ep.factor()));
    }
    if (ep.confirmed()) {
      return head + "the candidate passed the emulation's plan and removed what it did not need";
    }
    // a storage-only emulation of FP16 TensorRT (given with --emulation): suggest the default one
    BackendSpec accumulating = SearchOn.matchingEmulation(candidate);
    boolean storageOnly =
        candidate.backend().equals("trt")
            && accumulating.mode().contains("-acc16")
            && emulation.equals(new BackendSpec("ort", accumulating.mode().replace("-acc16", "")));
    return head
        + "the candidate failed the emulation's plan (it rounds differently from the emulation),"
        + " so the search ran on the candidate"
        + (storageOnly
            ? "; TensorRT may accumulate MatMuls in FP16, which "
                + emulation
                + " does not model: try --emulation "
                + accumulating
                + " (docs/user-guide.md)"
            : "");
  }

  /** Whether bisect and precision search on the emulation first (issue 18). */
  private boolean emulationFirst() {
    if (!settings.searchOn().emulationFirst(settings.candidate(), settings.emulation())) {
      return false;
    }
    Optional<String> off = settings.emulationGiven() ? Optional.empty() : emulationUnavailable();
    off.filter(n -> !notes.contains(n)).ifPresent(notes::add);
    return off.isEmpty();
  }

  /**
   * Why the default emulation cannot run this model, if it cannot: BF16 emulation rounds with Casts
   * to bfloat16, which ONNX accepts from opset 13 only. The search then runs on the candidate, with
   * a note; an emulation the caller chose ({@code --emulation}) fails instead, with the backend's
   * own error.
   */
  private Optional<String> emulationUnavailable() {
    BackendSpec emu = settings.emulation();
    long opset = graph.model().opsetVersion();
    LowPrecision type = LowPrecision.ofMode(emu.mode());
    if (emu.backend().equals("ort") && opset < type.minimumCastOpset()) {
      return Optional.of(
          "emulation first is off: "
              + emu
              + " needs ONNX opset >= "
              + type.minimumCastOpset()
              + " (Cast to "
              + type.dtype().cliName()
              + ") and model '"
              + graph.name()
              + "' has opset "
              + opset
              + "; every probe ran on "
              + settings.candidate());
    }
    return Optional.empty();
  }

  private static AnalysisReport withEmulation(
      AnalysisReport rep, int emulationBuilds, int emulationParallelism) {
    return rep.withExecution(rep.execution().withEmulation(emulationBuilds, emulationParallelism));
  }

  AmplifyResult amplify() {
    BisectContext ctx = context();
    Amplification.Result r = Amplification.analyze(ctx);
    return new AmplifyResult(
        finish(ctx, ReportMapper.from(header("amplify", ctx), r, ctx.model())), r);
  }

  PrecisionResult precision() {
    searchBound = marginBound();
    if (searchBound != null) {
      notes.add(
          String.format(
              Locale.ROOT,
              "searched with a margin (--search-margin %s): every plan tried had to keep its"
                  + " outputs' normalized error <= %.2e, %.0f%% of the bound; the verdict checks"
                  + " the plan against the whole bound",
              settings.searchMargin(),
              searchBound.maxNormalizedError(),
              100 * settings.searchMargin()));
    }
    if (settings.planFrom() != null) {
      return precisionFrom(settings.planFrom());
    }
    boolean emulationFirst = emulationFirst();
    sharedReference = emulationFirst;
    int k = holdoutCount(settings.holdout(), samples.size());
    if (k >= samples.size()) {
      throw HalfBisectException.usage(
          "--holdout "
              + k
              + " leaves no sample to search on ("
              + samples.size()
              + " samples); use fewer or more samples");
    }
    List<Map<String, Tensor>> searchOn = samples.subList(0, samples.size() - k);
    boolean asIsFirst = settings.plan().fp32Nodes().isEmpty();
    // issue 18: with emulation first the emulation searches while the candidate builds its
    // all-FP16 engine (EmulationHeadStart); the candidate's preflight runs there
    boolean headStart = emulationFirst && asIsFirst;
    BisectContext ctx = context(searchOn, settings.candidate(), settings.plan(), !headStart);
    PrecisionSearch.Result r = asIsFirst && !headStart ? passingAsIs(ctx) : null;
    Integer emulationBuilds = null;
    int emulationJobs = 1;
    if (r == null && emulationFirst) {
      BisectContext emu = context(searchOn, settings.emulation());
      emulationJobs = emu.prober().parallelism();
      PrecisionSearch.Options emuOptions =
          settings.search().withMaxSearchBuilds(settings.maxEmulationBuilds());
      PrecisionSearch.Result plan;
      if (headStart) {
        EmulationHeadStart.Outcome head =
            EmulationHeadStart.run(
                emu,
                emuOptions,
                () -> {
                  preflightCandidate(ctx);
                  return passingAsIs(ctx);
                });
        r = head.asIs().orElse(null);
        plan = head.emulationPlan();
      } else {
        plan = EmulationFirst.emulationPlan(emu, emuOptions);
      }
      if (r == null) {
        EmulationFirst.Precision ep =
            EmulationFirst.precision(
                emu,
                plan,
                ctx,
                emuOptions,
                settings.search(),
                factor -> stricterEmulation(searchOn, factor));
        r = ep.result();
        emulationBuilds = ep.emulationBuilds();
        notes.add(
            emulationFirstNote(ep, settings.emulation(), settings.candidate(), emulationJobs));
        noteEmulationResumed();
      }
    } else if (r == null) {
      r = PrecisionSearch.run(ctx, settings.search());
    }
    PlanPricing.Priced priced = null; // issue 20: the plan's price, the faster passing plan
    if (settings.price() && r.found()) {
      priced =
          pricing()
              .price(r, () -> PrecisionSearch.run(ctx, settings.search().withPinOverflows(false)));
      r = priced.chosen();
    }
    List<Path> files = writePlanFiles(r);
    AnalysisReport rep = ReportMapper.from(header("precision", ctx), r);
    SampleSummary held = null;
    int holdoutBuilds = 0;
    if (k > 0 && r.found()) {
      BisectContext hctx = bareContext(samples.subList(samples.size() - k, samples.size()));
      ProbeResult v =
          hctx.prober()
              .probe(
                  ProbeSpec.full(
                      ProbeSpec.Side.CANDIDATE,
                      r.plan(),
                      graph.graphOutputs().stream().filter(graph::isFloat).toList()));
      holdoutBuilds = hctx.prober().candidateBuilds();
      held =
          v.tensors().isEmpty()
              ? new SampleSummary(k, 0, null, null, List.of())
              : SampleMapping.summary(v.tensors(), settings.tolerance());
      notes.add(
          held.passed() == held.count()
              ? "the plan was searched on "
                  + searchOn.size()
                  + " samples and holds on the "
                  + k
                  + " held-out samples"
              : "the plan was searched on "
                  + searchOn.size()
                  + " samples and FAILS on "
                  + (held.count() - held.passed())
                  + " of the "
                  + k
                  + " held-out samples (worst: sample "
                  + (searchOn.size() + (held.worstSample() == null ? 0 : held.worstSample()))
                  + "): it fits the search samples only; add samples or search on all of them");
    } else if (k == 0 && samples.size() < 4 && settings.holdout() < 0) {
      notes.add(
          "the plan was searched and checked on the same "
              + samples.size()
              + " sample(s): no held-out validation (give 4 or more samples, or --holdout K)");
    }
    AnalysisReport.Builder rb = rep.toBuilder();
    if (held != null && held.passed() < held.count()) {
      rb.pass(false); // a plan that fails on held-out samples is no fix
    }
    SampleSummary searched = SampleMapping.summary(r.outputErrors(), settings.tolerance());
    nearBoundNote(searched, settings.candidate(), searchBound != null).ifPresent(notes::add);
    rep =
        rb.samples(searched)
            .search(
                new SearchView(
                    r.stopReason(),
                    settings.search().maxSearchBuilds() == Integer.MAX_VALUE
                        ? null
                        : settings.search().maxSearchBuilds(),
                    searchOn.size(),
                    held))
            .build();
    rep = ParseTimeNotes.withFolded(rep, ctx.model()); // issue 15: folded nodes never proposed
    if (priced != null) {
      rep = rep.withPrice(priced.section());
    }
    AnalysisReport done = finish(ctx, rep, r.plan());
    if (holdoutBuilds > 0) {
      done = done.withBuilds(done.builds() + holdoutBuilds);
    }
    return new PrecisionResult(
        emulationBuilds == null ? done : withEmulation(done, emulationBuilds, emulationJobs),
        r,
        files);
  }

  /**
   * {@code --search-margin}: the normalized-error bound scaled by the margin, for the contexts the
   * precision search runs on; null at the default margin of 1.
   */
  private Tolerance marginBound() {
    double m = settings.searchMargin();
    if (m >= 1) {
      return null;
    }
    Tolerance t = settings.tolerance();
    if (!oneNormalizedBound(t)) {
      throw HalfBisectException.usage(
          "--search-margin "
              + m
              + " scales the normalized-error bound (--max-error), but this run uses the "
              + ReportMapper.toleranceOf(t).description()
              + (t.overrides().isEmpty() ? "" : " with per-tensor bounds")
              + ": tighten those bounds instead");
    }
    return Tolerance.normalized(t.maxNormalizedError() * m);
  }

  /**
   * Whether {@code t} is one normalized-error bound for every tensor: the only check a factor
   * scales (emulation first's stricter retry, {@code --search-margin}).
   */
  private static boolean oneNormalizedBound(Tolerance t) {
    return t.mode().kind() == CheckMode.Kind.NORMALIZED && t.overrides().isEmpty();
  }

  /** The bound the probes of this operation are judged by (precision's margin applied). */
  private Tolerance searchTolerance() {
    return searchBound != null ? searchBound : settings.tolerance();
  }

  /**
   * A TensorRT plan that passes close to its bound (80% or more of it) with no margin asked for:
   * TensorRT times its kernels at every build, so the user's own build of the plan can err more
   * (measured on an H200: a MiniLM plan found at 98% of its bound erred at 129% on a rebuild).
   */
  static Optional<String> nearBoundNote(
      SampleSummary searched, BackendSpec candidate, boolean withMargin) {
    if (withMargin || !candidate.backend().equals("trt")) {
      return Optional.empty();
    }
    return searched.outputs().stream()
        .filter(OutputPassRate::passesNearBound)
        .max(Comparator.comparingDouble(OutputPassRate::boundShare))
        .map(
            o ->
                String.format(
                    Locale.ROOT,
                    "the plan passes at %.0f%% of the bound (%s): TensorRT picks its kernels anew"
                        + " at every build, and another build of this plan can err more (on an"
                        + " H200 a MiniLM plan found at 98%% erred at 129%% on a rebuild); check"
                        + " it with compare --plan on a fresh build, or search with"
                        + " --search-margin 0.75 to keep room",
                    100 * o.boundShare(),
                    o.tensor()));
  }

  /**
   * Issue 19: {@code precision --plan-from}: the converted model's FP32 set is the starting point
   * (verified first), shrunk by ddmin on a context whose base plan pins nothing.
   */
  private PrecisionResult precisionFrom(PlanFrom from) {
    BisectContext ctx = context(PrecisionPlan.allFp16().withIoPolicy(settings.plan().ioPolicy()));
    PrecisionSearch.Result r =
        PrecisionSearch.shrink(ctx, from.derived().fp32Nodes(), settings.search());
    boolean givenPassed =
        !r.steps().isEmpty() && r.steps().get(0).phase().equals("given") && r.steps().get(0).pass();
    notes.add(from.shrinkNote(r.fp32Nodes().size(), givenPassed));
    List<Path> files = writePlanFiles(r);
    return new PrecisionResult(
        finish(ctx, ReportMapper.from(header("precision", ctx), r)), r, files);
  }

  /**
   * When the all-FP16 candidate already passes (one build observing only the outputs) there is
   * nothing to search: the plan is all FP16. Saves the amplification run that seeds the search.
   */
  private static PrecisionSearch.Result passingAsIs(BisectContext ctx) {
    Layerwise.Result outs = Layerwise.run(ctx, t -> false);
    if (!outs.outputsPass()) {
      return null;
    }
    ImmutableMap.Builder<String, TensorComparison> errors = ImmutableMap.builder();
    outs.tensors().forEach(t -> errors.put(t.tensor(), t.error()));
    return new PrecisionSearch.Result(
        true,
        true,
        ctx.basePlan(),
        ImmutableList.of(),
        1.0,
        errors.buildKeepingLast(),
        ImmutableList.of(new PrecisionSearch.Step("all-fp16", 0, true)),
        outs.candidateBuilds(),
        0,
        ImmutableList.of(),
        "the plan passes as it is: nothing to pin");
  }

  ReduceResult reduce() {
    BisectContext ctx = context();
    Reduce.Result r;
    try {
      Path dir =
          settings.outDir() != null
              ? settings.outDir()
              : Files.createTempDirectory("halfbisect-reduce");
      r = Reduce.run(ctx, dir);
    } catch (IOException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          "reduce could not write its files: " + e.getMessage(),
          e);
    }
    AnalysisReport rep =
        ReportMapper.from(
            header("reduce", ctx),
            r,
            graph.nodes().size(),
            n -> graph.hasNode(n) ? graph.node(n).getOpType() : "");
    return new ReduceResult(finish(ctx, rep), r);
  }

  DiagnosisResult diagnose() {
    return diagnose(true);
  }

  DiagnosisResult explain() {
    return diagnose(false);
  }

  private DiagnosisResult diagnose(boolean fix) {
    return diagnose(context(), fix);
  }

  private DiagnosisResult diagnose(BisectContext ctx, boolean fix) {
    Layerwise.Result lw = Layerwise.run(ctx, t -> true, settings.headroom());
    Amplification.Result amp = Amplification.analyze(ctx);
    PrecisionSearch.Result ps =
        lw.outputsPass() || !fix
            ? null
            : PrecisionSearch.run(ctx, amp, amp.candidateBuilds(), settings.search());
    PlanPricing.Priced priced = null; // issue 20: the plan's price, the faster passing plan
    if (settings.price() && ps != null && ps.found()) {
      priced =
          pricing()
              .price(
                  ps,
                  () ->
                      PrecisionSearch.run(
                          ctx,
                          amp,
                          amp.candidateBuilds(),
                          settings.search().withPinOverflows(false)));
      ps = priced.chosen();
    }
    List<Path> files = ps == null ? List.of() : writePlanFiles(ps);
    AnalysisReport rep =
        withEvidence(
            ReportMapper.diagnose(header("diagnose", ctx), lw, null, amp, ps, ctx.model()), lw);
    if (ps != null) {
      rep =
          rep.toBuilder()
              .search(
                  new SearchView(
                      ps.stopReason(),
                      settings.search().maxSearchBuilds() == Integer.MAX_VALUE
                          ? null
                          : settings.search().maxSearchBuilds(),
                      samples.size(),
                      null))
              .build();
    }
    if (priced != null) {
      rep = rep.withPrice(priced.section());
    }
    return new DiagnosisResult(finish(ctx, rep), lw, amp, ps, files);
  }

  private PlanPricing pricing() {
    return new PlanPricing(graph, settings, samples.get(0));
  }

  /**
   * The report's header; its tolerance is the verdict's, also when precision searched within a
   * margin.
   */
  private ReportMapper.Header header(String command, BisectContext ctx) {
    return ReportMapper.Header.of(command, ctx)
        .withTolerance(ReportMapper.toleranceOf(settings.tolerance()));
  }

  /**
   * Counts every candidate build of the operation's context (the preflight's included) and adds the
   * facade's notes (derived inputs, files not written) to the report's warnings.
   */
  private AnalysisReport finish(BisectContext ctx, AnalysisReport report) {
    return finish(ctx, report, ctx.basePlan());
  }

  /** Most lines of the backend's build notes a report lists (TensorRT logs up to 40 a build). */
  private static final int MAX_BUILD_NOTES = 12;

  /**
   * The report with the run's counts and notes; {@code answered} is the plan the report answers
   * with, whose candidate build notes (TensorRT's warnings and plan check) it lists.
   */
  private AnalysisReport finish(BisectContext ctx, AnalysisReport report, PrecisionPlan answered) {
    settings.listener().finished();
    List<String> build = ctx.prober().buildNotes(answered);
    for (int i = 0; i < Math.min(build.size(), MAX_BUILD_NOTES); i++) {
      notes.add("candidate build: " + build.get(i));
    }
    if (build.size() > MAX_BUILD_NOTES) {
      notes.add(
          "candidate build: " + (build.size() - MAX_BUILD_NOTES) + " more notes of this build");
    }
    AnalysisReport r =
        report
            .withBuilds(ctx.prober().candidateBuilds())
            .withExecution(
                new ExecutionView(
                    ctx.prober().parallelism(),
                    ctx.prober().rounds(),
                    ctx.prober().referenceBuilds()));
    ctx.prober()
        .chunkCap()
        .ifPresent(
            c ->
                notes.add(
                    "observed builds failed for their size: after both halves of a failed chunk"
                        + " built, chunks observed at most "
                        + c
                        + " a build (--observe-max "
                        + c
                        + " starts there next time)"));
    int hits = ctx.prober().journalHits();
    if (hits > 0) { // issue 16
      notes.add(
          "resumed: "
              + hits
              + " of "
              + (hits + ctx.prober().candidateBuilds())
              + " probes from the journal "
              + settings.journal());
    }
    if (r.samples() == null) {
      // issue 15: every command's pass rate over the set, from the preflight probe (no new build)
      ProbeSpec outputs =
          ProbeSpec.full(
              ProbeSpec.Side.CANDIDATE,
              ctx.basePlan(),
              graph.graphOutputs().stream().filter(graph::isFloat).toList());
      if (ctx.prober().isDecided(outputs)) {
        ProbeResult pr = ctx.prober().probe(outputs);
        if (!pr.tensors().isEmpty()) {
          r =
              r.toBuilder()
                  .samples(SampleMapping.summary(pr.tensors(), settings.tolerance()))
                  .build();
        }
      }
    }
    if (notes.isEmpty()) {
      return r;
    }
    List<String> w = new ArrayList<>(r.warnings() == null ? List.of() : r.warnings());
    for (String n : notes) {
      if (!w.contains(n)) {
        w.add(n);
      }
    }
    return r.withWarnings(ImmutableList.copyOf(w));
  }

  private List<Path> writePlanFiles(PrecisionSearch.Result r) {
    Path outDir = settings.outDir();
    if (outDir == null) {
      return List.of();
    }
    List<Path> files =
        new ArrayList<>(List.of(outDir.resolve("plan.json"), outDir.resolve("trtexec-flags.txt")));
    try {
      r.writeArtifacts(outDir);
      // issue 19: the candidate's typing and low-precision type decide the deliverable
      BuildRecipe recipe = BuildRecipe.forCandidateMode(r.plan(), settings.candidate().mode());
      files.addAll(ModelFiles.writeRecipe(graph, recipe, outDir, notes));
    } catch (IOException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          "cannot write the plan files under " + outDir + ": " + e.getMessage(),
          e);
    }
    return files;
  }

  /** A fresh context over all samples, preflighted. */
  private BisectContext context() {
    return context(samples, settings.candidate());
  }

  /** A fresh context over {@code on} with the configured candidate, preflighted. */
  private BisectContext context(List<Map<String, Tensor>> on) {
    return context(on, settings.candidate());
  }

  /** A fresh context with {@code candidate} as its candidate (the emulation of issue 18). */
  private BisectContext context(BackendSpec candidate) {
    return context(samples, candidate);
  }

  /**
   * A fresh context over {@code on}, preflighted, with the journal (issue 16; only for the
   * configured candidate: an emulation context has other backends, hence another digest) and, over
   * the whole sample set, the golden reference outputs (issue 17).
   */
  private BisectContext context(List<Map<String, Tensor>> on, BackendSpec candidate) {
    return context(on, candidate, settings.plan());
  }

  /** A fresh context whose candidate runs under {@code candidatePlan} (issue 19's shrink). */
  private BisectContext context(PrecisionPlan candidatePlan) {
    return context(samples, settings.candidate(), candidatePlan);
  }

  private BisectContext context(
      List<Map<String, Tensor>> on, BackendSpec candidate, PrecisionPlan candidatePlan) {
    return context(on, candidate, candidatePlan, true);
  }

  /** With {@code candidatePreflight} false, the candidate's preflight is the caller's to run. */
  private BisectContext context(
      List<Map<String, Tensor>> on,
      BackendSpec candidate,
      PrecisionPlan candidatePlan,
      boolean candidatePreflight) {
    if (settings.planFrom() != null && !notes.contains(settings.planFrom().note())) {
      notes.add(settings.planFrom().note()); // issue 19: say where the plan came from
    }
    BisectContext.Builder b = contextBuilder(on, candidate, candidatePlan);
    boolean whole = on.size() == samples.size();
    ReferenceOutputs golden = settings.referenceOutputs();
    String reference = settings.reference().toString();
    if (whole && golden.load() != null) {
      b.knownReference(golden.read(graph, samples, reference));
    }
    boolean emulation = !candidate.equals(settings.candidate());
    if (!emulation) {
      openJournal().ifPresent(b::journal);
    } else {
      emulationJournal(1).ifPresent(b::journal); // emulation first's search at the bound
    }
    BisectContext ctx = b.build();
    if (emulation) {
      emulationContexts.add(ctx);
    }
    preflight(ctx, candidatePreflight);
    if (whole && golden.save() != null) {
      golden.write(graph, samples, reference, ctx.prober().reference(graph.graphOutputs()));
    }
    return ctx;
  }

  /** A fresh context (own prober and reference cache) over the graph the facade holds. */
  private BisectContext bareContext(List<Map<String, Tensor>> on) {
    return contextBuilder(on, settings.candidate(), settings.plan()).build();
  }

  private BisectContext.Builder contextBuilder(
      List<Map<String, Tensor>> on, BackendSpec candidate, PrecisionPlan candidatePlan) {
    BackendSpec reference = settings.reference();
    boolean emulation = !candidate.equals(settings.candidate()); // emulation first's other side
    // issue 18: a backend with build workers (TensorRT) starts as many as probes run at once
    String k = Integer.toString(settings.parallelism());
    Backend referenceBackend = resolve(reference, "reference");
    Backend candidateBackend = resolve(candidate, emulation ? "emulation" : "candidate");
    BisectContext.Builder b =
        BisectContext.builder(
                graph,
                referenceBackend,
                // the reference keeps its cache key: the settings shape low-precision builds
                BuildOptions.of(reference.mode(), PrecisionPlan.allFp32())
                    .withProperty(BuildOptions.CONCURRENT_BUILDS, k),
                candidateBackend,
                withBuildSettings(
                    BuildOptions.of(candidate.mode(), candidatePlan)
                        .withProperty(
                            BuildOptions.CONCURRENT_BUILDS,
                            // ONNX Runtime splits the cores among the sessions that run at once
                            emulation ? Integer.toString(settings.emulationJobs()) : k),
                    candidateBackend))
            .tolerance(searchTolerance())
            .samples(on)
            .listener(new ListenerAdapter(settings.listener(), reference, candidate, emulation))
            // issue 18: emulation probes are CPU sessions and run side by side on their own count
            .parallelism(emulation ? settings.emulationJobs() : settings.parallelism())
            .referenceStore(referenceStore());
    settings.limits().applyTo(b);
    return b;
  }

  /**
   * {@code options} with the backend's settings from system properties (TensorRT's {@code
   * observedAs}): they reach its sessions and key the journals, so a resumed run with another
   * setting does not read probes built under the old one.
   */
  private static BuildOptions withBuildSettings(BuildOptions options, Backend backend) {
    BuildOptions out = options;
    for (Map.Entry<String, String> e : backend.buildSettings().entrySet()) {
      out = out.withProperty(e.getKey(), e.getValue());
    }
    return out;
  }

  // issue 16: resumable runs
  private synchronized Optional<ProbeJournal> openJournal() {
    Path file = settings.journal();
    if (file == null) {
      return Optional.empty();
    }
    if (journal == null) {
      journal = openJournalAt(file);
    }
    return Optional.of(journal);
  }

  /**
   * Emulation first's journal for the emulation searching at {@code factor}x below the bound (1:
   * the bound itself), beside the candidate's: {@code emulation-probes.jsonl}, {@code
   * emulation-x1.0612-probes.jsonl}. A resumed run measures the candidate's errors again from its
   * journal, hence the same ratios and files. Stricter searches open theirs from other threads.
   */
  private synchronized Optional<ProbeJournal> emulationJournal(double factor) {
    Path file = settings.journal();
    if (file == null) {
      return Optional.empty();
    }
    Path at =
        file.resolveSibling(
            factor == 1
                ? "emulation-probes.jsonl"
                : String.format(Locale.ROOT, "emulation-x%.4f-probes.jsonl", factor));
    ProbeJournal j = emulationJournals.get(at);
    if (j == null) {
      j = openJournalAt(at);
      emulationJournals.put(at, j);
    }
    return Optional.of(j);
  }

  private ProbeJournal openJournalAt(Path file) {
    try {
      return settings.freshJournal() ? ProbeJournal.fresh(file) : ProbeJournal.open(file);
    } catch (UnsafeTargetException e) {
      throw HalfBisectException.usage(e.getMessage());
    } catch (IOException | UncheckedIOException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          "cannot open the probe journal " + file + ": " + e.getMessage(),
          e);
    }
  }

  /** The note on the emulation's probes read from its journals (none: nothing to add). */
  private void noteEmulationResumed() {
    int hits = 0;
    int built = 0;
    for (BisectContext c : emulationContexts) {
      hits += c.prober().journalHits();
      built += c.prober().candidateBuilds();
    }
    if (hits > 0) {
      notes.add(
          "resumed: "
              + hits
              + " of "
              + (hits + built)
              + " emulation probes from the emulation's journals beside "
              + settings.journal());
    }
  }

  @Override
  public synchronized void close() {
    List<ProbeJournal> open = new ArrayList<>(emulationJournals.values());
    if (journal != null) {
      open.add(0, journal);
    }
    journal = null;
    emulationJournals.clear();
    for (ProbeJournal j : open) {
      try {
        j.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close the probe journal " + j.file(), e);
      }
    }
  }

  /**
   * Stops when the reference is NaN or infinite at a float graph output: every FP16 verdict is
   * measured against it, and "finite where the reference is finite" would pass anything there.
   */
  private static void requireFiniteReference(
      List<String> floatOutputs, List<Map<String, Tensor>> reference) {
    for (String t : floatOutputs) {
      long bad = 0;
      long total = 0;
      for (Map<String, Tensor> sample : reference) {
        Tensor v = sample.get(t);
        if (v == null) {
          continue;
        }
        for (float f : v.toFloatArray()) {
          if (!Float.isFinite(f)) {
            bad++;
          }
        }
        total += v.size();
      }
      if (bad > 0) {
        throw new NonFiniteReferenceException(t, bad, total);
      }
    }
  }

  /**
   * The on-disk reference cache of the settings; else, for an emulation-first search, one in memory
   * that its two contexts share (they compare against the same reference, run once); else none
   * (layerwise's memory bound relies on dropping reference values).
   */
  private ReferenceStore referenceStore() {
    if (store == null) {
      Path dir = settings.referenceCache();
      if (dir != null) {
        store = ReferenceStore.onDisk(dir, HalfBisect.REFERENCE_CACHE_MAX_MIB << 20, 30);
      } else {
        store = sharedReference ? ReferenceStore.inMemory() : ReferenceStore.NONE;
      }
    }
    return store;
  }

  static Backend resolve(BackendSpec spec, String role) {
    Backend b;
    try {
      b = Backends.resolve(spec);
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage(role + " " + spec + ": " + e.getMessage());
    }
    var a = b.availability();
    if (!a.available()) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          role + " backend " + spec + " is not available: " + a.reason());
    }
    return b;
  }

  /**
   * Runs the reference and the candidate once on the graph outputs, so that an unreadable model, an
   * unbuildable mode or inputs that do not fit are errors rather than a report of failed probes.
   * Both runs go through the context's prober: the reference values stay cached and the candidate
   * probe is the one compare, precision search and diagnose start with, so no build is repeated
   * (with TensorRT a build takes seconds).
   */
  private void preflight(BisectContext ctx) {
    preflight(ctx, true);
  }

  /**
   * The preflight; with {@code candidateToo} false the reference part alone (the candidate's
   * follows through {@link #preflightCandidate}).
   */
  private void preflight(BisectContext ctx, boolean candidateToo) {
    List<String> outputs = ctx.model().graphOutputs();
    List<String> floatOutputs = outputs.stream().filter(ctx.model()::isFloat).toList();
    asPreflightError(
        () -> {
          List<Map<String, Tensor>> refValues = ctx.prober().reference(outputs);
          Map<String, String> missing = ctx.prober().referenceUnavailable();
          if (!missing.isEmpty()) {
            Map.Entry<String, String> first = missing.entrySet().iterator().next();
            throw new HalfBisectException(
                HalfBisectException.Kind.BACKEND,
                settings.reference()
                    + " cannot run "
                    + graph.name()
                    + " (graph output "
                    + first.getKey()
                    + "): "
                    + first.getValue());
          }
          if (floatOutputs.isEmpty()) {
            throw HalfBisectException.usage(
                graph.name() + " has no float graph output: there is nothing to compare");
          }
          requireFiniteReference(floatOutputs, refValues);
          if (candidateToo) {
            candidateAllFp16(ctx, floatOutputs);
          }
        });
  }

  /** The candidate's part of the preflight: its all-FP16 build (emulation first's head start). */
  private void preflightCandidate(BisectContext ctx) {
    List<String> floatOutputs =
        ctx.model().graphOutputs().stream().filter(ctx.model()::isFloat).toList();
    asPreflightError(() -> candidateAllFp16(ctx, floatOutputs));
  }

  private void candidateAllFp16(BisectContext ctx, List<String> floatOutputs) {
    ProbeResult r =
        ctx.prober().probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), floatOutputs));
    if (r.status() == ProbeResult.Status.BUILD_FAILED || r.status() == ProbeResult.Status.CRASH) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          settings.candidate() + " cannot run " + graph.name() + ": " + r.message());
    }
  }

  /** Runs a preflight step, its failures as the facade's errors (bad inputs, a backend's). */
  private void asPreflightError(Runnable step) {
    try {
      step.run();
    } catch (HalfBisectException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage(
          "the inputs do not fit " + graph.name() + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND, "running " + graph.name() + " failed: " + e, e);
    }
  }

  /**
   * Feeds the bisect module's progress events to the facade's listener. The phase shown is the
   * strategy's: the reference runs a strategy asks for are announced through {@link
   * ProgressListener#running} (and do not rename the phase); steps count candidate probes.
   */
  private static final class ListenerAdapter implements BisectListener {
    private final ProgressListener target;
    private final String referenceLabel;
    private final String candidateLabel;
    private String phase = "preflight";
    private int done;

    /** {@code emulation}: the context is emulation first's, its candidate the emulation. */
    ListenerAdapter(
        ProgressListener target, BackendSpec reference, BackendSpec candidate, boolean emulation) {
      this.target = target;
      this.referenceLabel = "reference: " + buildLabel(reference);
      this.candidateLabel = (emulation ? "emulation: " : "candidate: ") + buildLabel(candidate);
      target.phase(phase, -1);
    }

    /**
     * {@code trt:fp16} -> "TensorRT FP16 build", {@code ort:fp16-emulated} -> "ONNX Runtime ...".
     */
    static String buildLabel(BackendSpec spec) {
      String backend =
          switch (spec.backend()) {
            case "trt" -> "TensorRT";
            case "ort" -> "ONNX Runtime";
            default -> spec.backend();
          };
      String mode = spec.mode();
      int dash = mode.indexOf('-');
      String head = dash < 0 ? mode : mode.substring(0, dash);
      return backend
          + " "
          + head.toUpperCase(java.util.Locale.ROOT)
          + (dash < 0 ? "" : mode.substring(dash))
          + " build";
    }

    // Each method holds the target's lock: with emulation first's head start two contexts
    // report at once (the candidate's preflight and the emulation's search).

    @Override
    public void phase(String name) {
      if (name.equals("reference")) {
        return; // a reference run inside the current phase: announced by probeStarted
      }
      synchronized (target) {
        phase = name;
        done = 0;
        target.phase(name, -1);
      }
    }

    @Override
    public void bound(int candidateBuilds) {
      synchronized (target) {
        target.phase(phase, candidateBuilds);
      }
    }

    @Override
    public void probeStarted(ProbeSpec spec) {
      synchronized (target) {
        target.running(spec.side() == ProbeSpec.Side.REFERENCE ? referenceLabel : candidateLabel);
      }
    }

    @Override
    public void probeFinished(ProbeResult result) {
      // a finished reference run is a step too, without counting: displays close its line
      boolean candidate = result.spec().side() == ProbeSpec.Side.CANDIDATE;
      synchronized (target) {
        target.step(candidate ? ++done : done, result.spec().describe());
      }
    }
  }
}
