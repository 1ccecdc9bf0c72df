package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.BisectContext;
import dev.halfbisect.bisect.BisectListener;
import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.bisect.ProbeJournal;
import dev.halfbisect.bisect.ProbeResult;
import dev.halfbisect.bisect.ProbeSpec;
import dev.halfbisect.bisect.Reduce;
import dev.halfbisect.bisect.TensorComparison;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.io.UnsafeTargetException;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.report.mapping.ReportMapper;
import dev.halfbisect.report.model.AnalysisReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    Layerwise.Result r = Layerwise.run(ctx, t -> false); // graph outputs only
    return new CompareResult(finish(ctx, ReportMapper.from(header("compare", ctx), r)), r, null);
  }

  /**
   * Compare; when the outputs fail, layerwise and amplify on the same context (issue 17): the
   * reference values and the candidate's full build are reused, so explaining a failure repeats no
   * build.
   */
  CompareResult compareAndExplain() {
    BisectContext ctx = context();
    Layerwise.Result r = Layerwise.run(ctx, t -> false);
    AnalysisReport compareReport = ReportMapper.from(header("compare", ctx), r);
    DiagnosisResult why = r.outputsPass() ? null : diagnose(ctx, false);
    return new CompareResult(finish(ctx, compareReport), r, why);
  }

  LayerwiseResult layerwise() {
    BisectContext ctx = context();
    Layerwise.Result r = Layerwise.run(ctx);
    return new LayerwiseResult(finish(ctx, ReportMapper.from(header("layerwise", ctx), r)), r);
  }

  BisectResult bisect() {
    BisectContext ctx = context();
    FirstDivergence.Result r = FirstDivergence.search(ctx);
    return new BisectResult(finish(ctx, ReportMapper.from(header("bisect", ctx), r)), r);
  }

  AmplifyResult amplify() {
    BisectContext ctx = context();
    Amplification.Result r = Amplification.analyze(ctx);
    return new AmplifyResult(
        finish(ctx, ReportMapper.from(header("amplify", ctx), r, ctx.model())), r);
  }

  PrecisionResult precision() {
    BisectContext ctx = context();
    PrecisionSearch.Result r = settings.plan().fp32Nodes().isEmpty() ? passingAsIs(ctx) : null;
    if (r == null) {
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
    if (priced != null) {
      rep = rep.withPrice(priced.section());
    }
    return new PrecisionResult(finish(ctx, rep), r, files);
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
        0);
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
    AnalysisReport rep = ReportMapper.from(header("reduce", ctx), r, graph.nodes().size());
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
    Layerwise.Result lw = Layerwise.run(ctx);
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
        ReportMapper.diagnose(header("diagnose", ctx), lw, null, amp, ps, ctx.model());
    if (priced != null) {
      rep = rep.withPrice(priced.section());
    }
    return new DiagnosisResult(finish(ctx, rep), lw, amp, ps, files);
  }

  private PlanPricing pricing() {
    return new PlanPricing(graph, settings, samples.get(0));
  }

  private ReportMapper.Header header(String command, BisectContext ctx) {
    return ReportMapper.Header.of(command, ctx);
  }

  /**
   * Counts every candidate build of the operation's context (the preflight's included) and adds the
   * facade's notes (derived inputs, files not written) to the report's warnings.
   */
  private AnalysisReport finish(BisectContext ctx, AnalysisReport report) {
    settings.listener().finished();
    AnalysisReport r = report.withBuilds(ctx.prober().candidateBuilds());
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
    try {
      r.writeArtifacts(outDir);
    } catch (IOException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          "cannot write the plan files under " + outDir + ": " + e.getMessage(),
          e);
    }
    List<Path> files =
        new ArrayList<>(List.of(outDir.resolve("plan.json"), outDir.resolve("trtexec-flags.txt")));
    ModelFiles.writeFp16Model(graph, r.plan(), outDir.resolve("model-fp16.onnx"), notes)
        .ifPresent(files::add);
    return files;
  }

  /** A fresh context (own prober and reference cache) over the graph the facade holds. */
  private BisectContext context() {
    BackendSpec reference = settings.reference();
    BackendSpec candidate = settings.candidate();
    BisectContext.Builder b =
        BisectContext.builder(
                graph,
                resolve(reference, "reference"),
                BuildOptions.of(reference.mode(), PrecisionPlan.allFp32()),
                resolve(candidate, "candidate"),
                BuildOptions.of(candidate.mode(), settings.plan()))
            .tolerance(settings.tolerance())
            .samples(samples)
            .listener(new ListenerAdapter(settings.listener(), reference, candidate));
    settings.limits().applyTo(b);
    ReferenceOutputs golden = settings.referenceOutputs();
    if (golden.load() != null) {
      b.knownReference(golden.read(graph, samples, reference.toString()));
    }
    openJournal().ifPresent(b::journal);
    BisectContext ctx = b.build();
    preflight(ctx);
    if (golden.save() != null) {
      golden.write(
          graph, samples, reference.toString(), ctx.prober().reference(graph.graphOutputs()));
    }
    return ctx;
  }

  // issue 16: resumable runs
  private Optional<ProbeJournal> openJournal() {
    Path file = settings.journal();
    if (file == null) {
      return Optional.empty();
    }
    if (journal == null) {
      try {
        journal = settings.freshJournal() ? ProbeJournal.fresh(file) : ProbeJournal.open(file);
      } catch (UnsafeTargetException e) {
        throw HalfBisectException.usage(e.getMessage());
      } catch (IOException | UncheckedIOException e) {
        throw new HalfBisectException(
            HalfBisectException.Kind.BACKEND,
            "cannot open the probe journal " + file + ": " + e.getMessage(),
            e);
      }
    }
    return Optional.of(journal);
  }

  @Override
  public void close() {
    if (journal != null) {
      try {
        journal.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close the probe journal " + journal.file(), e);
      }
      journal = null;
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
    List<String> outputs = ctx.model().graphOutputs();
    List<String> floatOutputs = outputs.stream().filter(ctx.model()::isFloat).toList();
    try {
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
      ProbeResult r =
          ctx.prober()
              .probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), floatOutputs));
      if (r.status() == ProbeResult.Status.BUILD_FAILED || r.status() == ProbeResult.Status.CRASH) {
        throw new HalfBisectException(
            HalfBisectException.Kind.BACKEND,
            settings.candidate() + " cannot run " + graph.name() + ": " + r.message());
      }
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

    ListenerAdapter(ProgressListener target, BackendSpec reference, BackendSpec candidate) {
      this.target = target;
      this.referenceLabel = "reference: " + buildLabel(reference);
      this.candidateLabel = "candidate: " + buildLabel(candidate);
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

    @Override
    public void phase(String name) {
      if (name.equals("reference")) {
        return; // a reference run inside the current phase: announced by probeStarted
      }
      phase = name;
      done = 0;
      target.phase(name, -1);
    }

    @Override
    public void bound(int candidateBuilds) {
      target.phase(phase, candidateBuilds);
    }

    @Override
    public void probeStarted(ProbeSpec spec) {
      target.running(spec.side() == ProbeSpec.Side.REFERENCE ? referenceLabel : candidateLabel);
    }

    @Override
    public void probeFinished(ProbeResult result) {
      // a finished reference run is a step too, without counting: displays close its line
      boolean candidate = result.spec().side() == ProbeSpec.Side.CANDIDATE;
      target.step(candidate ? ++done : done, result.spec().describe());
    }
  }
}
