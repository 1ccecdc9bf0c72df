package dev.halfbisect.report.mapping;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.BisectContext;
import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.bisect.Reduce;
import dev.halfbisect.bisect.TensorComparison;
import dev.halfbisect.bisect.TensorError;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.BuildRecipe;
import dev.halfbisect.core.verdict.CheckMode;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.report.blocks.BlockDetector;
import dev.halfbisect.report.blocks.BlockId;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.FirstFailing;
import dev.halfbisect.report.model.InputError;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.PlanView;
import dev.halfbisect.report.model.ReduceSection;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.model.TensorRow;
import dev.halfbisect.report.model.ToleranceView;
import dev.halfbisect.report.text.Fmt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.annotation.CheckForNull;

/**
 * Turns the bisection engine's results into {@link AnalysisReport}s. Its package is the only part
 * of the report module that knows the engine's types; renderers see only the report.
 *
 * <p>Each {@code from} gives the document of one subcommand; {@link #diagnose} combines them. Root
 * causes are computed from the mapped evidence ({@link RootCauseAnalyzer}).
 */
public final class ReportMapper {
  private ReportMapper() {}

  /**
   * What a report says about its run that the engine results do not carry.
   *
   * @param command subcommand name
   * @param model model path or display name
   * @param backend reference and candidate as {@code backend:mode}
   * @param tolerance the tolerance used
   */
  public record Header(String command, String model, BackendPair backend, ToleranceView tolerance) {
    public Header {
      Preconditions.checkNotNull(command, "command");
      Preconditions.checkNotNull(model, "model");
      Preconditions.checkNotNull(backend, "backend");
      Preconditions.checkNotNull(tolerance, "tolerance");
    }

    /** The header of a run on this context: model name, backends and modes, tolerance. */
    public static Header of(String command, BisectContext ctx) {
      return new Header(
          command,
          ctx.model().name(),
          BackendPair.of(ctx.backends().referenceLabel(), ctx.backends().candidateLabel()),
          toleranceOf(ctx.tolerance()));
    }

    public Header withCommand(String c) {
      return new Header(c, model, backend, tolerance);
    }

    public Header withTolerance(ToleranceView t) {
      return new Header(command, model, backend, t);
    }

    /** A report builder with this header, the verdict and the candidate builds. */
    public AnalysisReport.Builder report(boolean pass, int builds) {
      return AnalysisReport.builder()
          .command(command)
          .model(model)
          .backend(backend)
          .pass(pass)
          .builds(builds)
          .tolerance(tolerance);
    }
  }

  /** The tolerance in words, with its normalized-error limit when it checks normalized error. */
  public static ToleranceView toleranceOf(Tolerance t) {
    boolean normalized = t.mode().kind() == CheckMode.Kind.NORMALIZED;
    String words =
        normalized
            ? "normalized error <= "
                + t.maxNormalizedError()
                + " and finite wherever the reference is finite"
            : t.mode().kind().name().toLowerCase(java.util.Locale.ROOT)
                + " check with atol "
                + t.atol()
                + ", rtol "
                + t.rtol()
                + ", finite wherever the reference is finite";
    if (!t.overrides().isEmpty()) {
      words +=
          "; per-tensor overrides: "
              + new TreeMap<>(
                  t.overrides().entrySet().stream()
                      .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().toString())));
    }
    return ToleranceView.of(words, normalized ? t.maxNormalizedError() : null);
  }

  // ---- layerwise ----

  /**
   * {@code layerwise}: every observed tensor with its evidence, the first failing one, unobserved
   * tensors as warnings.
   */
  public static AnalysisReport from(Header h, Layerwise.Result r) {
    return RootCauseAnalyzer.withRootCauses(
        h.report(r.outputsPass(), r.candidateBuilds())
            .tensors(tensors(r))
            .firstFailing(
                r.firstFailing()
                    .map(
                        t ->
                            new FirstFailing(
                                t.tensor(),
                                t.node(),
                                t.opType(),
                                t.error().normalizedError(),
                                null))
                    .orElse(null))
            .warnings(layerwiseWarnings(r))
            .build());
  }

  static List<TensorRow> tensors(Layerwise.Result r) {
    List<TensorRow> rows = new ArrayList<>(r.tensors().size());
    for (Layerwise.TensorReport t : r.tensors()) {
      rows.add(row(t.tensor(), t.node(), t.opType(), t.error()));
    }
    return rows;
  }

  static TensorRow row(String tensor, String node, String opType, TensorComparison c) {
    ErrorStats s =
        ErrorStats.worstOf(
            c.perSample().stream().map(TensorError::stats).collect(Collectors.toList()));
    return TensorRow.of(tensor, node, opType, c.normalizedError(), c.maxAbs(), c.pass())
        .withEvidence(
            s.refMaxAbs(),
            s.elements(),
            s.nonFiniteWhereRefFinite(),
            s.refCountAboveFp16Max(),
            s.refCountBelowFp16MinNormal(),
            s.refCountBelowFp16MinSubnormal())
        .withBlock(BlockDetector.detect(node).map(BlockId::label).orElse(null));
  }

  private static List<String> layerwiseWarnings(Layerwise.Result r) {
    List<String> w = new ArrayList<>();
    if (r.note() != null) {
      w.add(r.note());
    }
    // One line per reason: TensorRT folds dozens of constants away for the same reason.
    Map<String, List<String>> byReason = new java.util.LinkedHashMap<>();
    new TreeMap<>(r.unobserved())
        .forEach((t, why) -> byReason.computeIfAbsent(why, k -> new ArrayList<>()).add(t));
    byReason.forEach(
        (why, ts) ->
            w.add(
                ts.size() == 1
                    ? "not observed: " + ts.get(0) + ": " + why
                    : ts.size()
                        + " tensors not observed ("
                        + String.join(", ", ts.subList(0, Math.min(5, ts.size())))
                        + (ts.size() > 5 ? ", ..." : "")
                        + "): "
                        + why));
    // issue 15: tensors whose reference is ~0 are judged by the absolute fallback
    w.addAll(
        ParseTimeNotes.nearZero(r.tensors().stream().map(Layerwise.TensorReport::error).toList()));
    for (Layerwise.UnrepresentableConstant c : r.constants()) {
      w.add(
          "constant not representable in FP16 (not counted as a failure): "
              + c.tensor()
              + " ("
              + c.opType()
              + " "
              + c.node()
              + "): "
              + c.reason());
    }
    return w;
  }

  // ---- bisect ----

  /** {@code bisect}: the first divergence with its input errors. */
  public static AnalysisReport from(Header h, FirstDivergence.Result r) {
    List<String> w = bisectWarnings(r);
    AnalysisReport rep =
        h.report("pass".equals(r.verdict()), r.candidateBuilds())
            .firstFailing(r.divergence().map(ReportMapper::firstFailing).orElse(null))
            .warnings(w.isEmpty() ? null : w)
            .build();
    // The divergent node's own tensor rows give the root-cause evidence.
    List<TensorRow> evidence = r.divergence().map(ReportMapper::divergenceRows).orElse(List.of());
    List<RootCause> rc = RootCauseAnalyzer.analyze(rep.withTensors(evidence));
    return rep.withRootCauses(rc.isEmpty() ? null : rc);
  }

  private static List<String> bisectWarnings(FirstDivergence.Result r) {
    List<String> w = new ArrayList<>();
    r.failingOutput()
        .ifPresent(
            o ->
                w.add(
                    "search started from failing graph output "
                        + o
                        + "; "
                        + r.steps().size()
                        + " probes over "
                        + r.searchSpace()
                        + " tensors (bound "
                        + r.buildBound()
                        + " builds)"));
    if (r.failingOutput().isPresent() && r.divergence().isEmpty()) {
      w.add("a graph output fails but no single divergent node was isolated");
    }
    if (r.refinementCutShort()) {
      w.add(
          "refinement stopped at the bound of "
              + r.buildBound()
              + " builds: an input of the reported node also"
              + " fails; the error may be born earlier (layerwise lists every failing tensor)");
    }
    return w;
  }

  /** Rows of the divergent node's output and of its inputs. */
  private static List<TensorRow> divergenceRows(FirstDivergence.Divergence d) {
    List<TensorRow> l = new ArrayList<>();
    l.add(row(d.tensor(), d.node(), d.opType(), d.outputError()));
    for (TensorComparison in : d.inputErrors()) {
      l.add(row(in.tensor(), "(input of " + d.node() + ")", "", in));
    }
    return l;
  }

  static FirstFailing firstFailing(FirstDivergence.Divergence d) {
    return new FirstFailing(
        d.tensor(),
        d.node(),
        d.opType(),
        d.outputError().normalizedError(),
        d.inputErrors().stream()
            .map(c -> new InputError(c.tensor(), c.normalizedError()))
            .collect(Collectors.toList()));
  }

  // ---- amplify ----

  /**
   * {@code amplify}: per-node local/input/output error and amplification, byOpType, and byMotif
   * aggregated over motif instances (error into and out of each whole motif). With the graph, rows
   * also carry their float inputs and, for hotspot candidates, the largest initializer magnitude.
   * The verdict is whether the producers of the graph outputs stay within the normalized-error
   * limit.
   */
  public static AnalysisReport from(Header h, Amplification.Result r, @CheckForNull ModelGraph g) {
    double limit = h.tolerance().limitOrDefault();
    AnalysisReport.Builder rep =
        h.report(outputsPass(r, g, limit), r.candidateBuilds()).nodes(nodes(r, g, limit));
    if (!r.motifs().isEmpty()) {
      rep.byMotif(MotifMapping.groups(r.motifs()));
    }
    List<String> w = new ArrayList<>(ParseTimeNotes.unmeasured(r.unmeasured()));
    if (g != null) {
      ParseTimeNotes.folded(g).ifPresent(w::add); // issue 15
    }
    return RootCauseAnalyzer.withRootCauses(rep.warnings(w.isEmpty() ? null : w).build());
  }

  static List<NodeRow> nodes(Amplification.Result r, @CheckForNull ModelGraph g, double limit) {
    Map<String, String> motif = MotifMapping.labelsByNode(r.motifs());
    List<NodeRow> rows = new ArrayList<>(r.nodes().size());
    for (Amplification.NodeAmplification n : r.nodes()) {
      NodeRow row =
          new NodeRow(
              n.node(),
              n.opType(),
              motif.get(n.node()),
              BlockDetector.detect(n.node()).map(BlockId::label).orElse(null),
              n.localError(),
              n.inputError(),
              n.outputError(),
              n.amplification(),
              null,
              null);
      if (g != null && g.hasNode(n.node())) {
        boolean hotspot =
            n.localError() > limit
                || n.amplification() >= RootCauseAnalyzer.AMPLIFIED && n.outputError() > limit;
        row =
            row.withInputs(
                GraphEvidence.floatInputs(g, n.node()),
                hotspot ? GraphEvidence.weightMaxAbs(g, n.node()) : null);
      }
      rows.add(row);
    }
    return rows;
  }

  private static boolean outputsPass(
      Amplification.Result r, @CheckForNull ModelGraph g, double limit) {
    if (g == null) {
      return r.nodes().stream()
          .allMatch(n -> !(n.outputError() > limit) && !Double.isNaN(n.outputError()));
    }
    for (String out : g.graphOutputs()) {
      Optional<Onnx.NodeProto> p = g.producer(out);
      if (p.isPresent()) {
        Optional<Amplification.NodeAmplification> n = r.node(p.get().getName());
        if (n.isPresent() && !(n.get().outputError() <= limit)) {
          return false;
        }
      }
    }
    return true;
  }

  // ---- precision ----

  /**
   * {@code precision}: the FP32 set, FP16 fraction, plan and trtexec flags; the verdict is the
   * model's under the plan.
   */
  public static AnalysisReport from(Header h, PrecisionSearch.Result r) {
    AnalysisReport.Builder rep =
        h.report(r.found(), r.totalBuilds())
            .precision(
                r.fp32Nodes(),
                r.fp16Fraction(),
                PlanView.of(r.plan()),
                // issue 19: strongly typed candidates get the Cast-placed model + --stronglyTyped
                BuildRecipe.forCandidateLabel(r.plan(), h.backend().candidate()).trtexecFlags());
    List<String> w = new ArrayList<>();
    if (!r.found()) {
      w.add("no passing plan: even with every float node in FP32 the candidate fails");
    } else if (!r.oneMinimal()) {
      w.add(
          "the build budget ran out before every pinned node was shown necessary: the plan passes but may "
              + "keep more nodes in FP32 than needed");
    }
    if (!r.overflowNodes().isEmpty()) {
      w.add(
          r.overflowNodes().size()
              + (r.overflowNodes().size() == 1 ? " node was" : " nodes were")
              + " kept in FP32 up front because "
              + h.backend().candidateType() // issue 19: the type the candidate tested
              + " overflows in them on their own (inf or NaN where FP32 is finite),"
              + " whether or not the outputs need it: "
              + String.join(", ", r.overflowNodes())
              + " (--allow-overflow searches without this rule)");
    }
    w.addAll(ParseTimeNotes.nearZero(r.outputErrors().values())); // issue 15
    new TreeMap<>(r.outputErrors())
        .forEach(
            (o, c) -> {
              if (!c.pass()) {
                w.add(
                    "graph output "
                        + o
                        + " still fails under the plan: normalized error "
                        + Fmt.sci(c.normalizedError()));
              }
            });
    return rep.warnings(w.isEmpty() ? null : w).build();
  }

  // ---- reduce ----

  /**
   * {@code reduce}: the reduced subgraph and the files written; {@code opTypes} gives the op type
   * of a node of the original model.
   */
  public static AnalysisReport from(
      Header h,
      Reduce.Result r,
      int originalNodes,
      java.util.function.Function<String, String> opTypes) {
    Map<String, String> files = new TreeMap<>();
    r.model().ifPresent(p -> files.put("model", p.toString()));
    r.inputsNpz().ifPresent(p -> files.put("inputs", p.toString()));
    r.referenceNpz().ifPresent(p -> files.put("reference", p.toString()));
    AnalysisReport.Builder rep =
        h.report(!r.failing(), r.candidateBuilds())
            .reduce(
                r.failing()
                    ? new ReduceSection(
                        originalNodes, r.nodes().size(), r.inputs(), List.of(r.output()), files)
                    : null);
    if (r.failing() && r.error().isPresent()) {
      TensorComparison c = r.error().get();
      String node = r.nodes().isEmpty() ? r.output() : r.nodes().get(r.nodes().size() - 1);
      rep.firstFailing(
          new FirstFailing(r.output(), node, opTypes.apply(node), c.normalizedError(), null));
    }
    return rep.build();
  }

  // ---- diagnose ----

  /**
   * {@code diagnose}: layerwise tensors, the first divergence (from the bisection when given, else
   * layerwise), amplification and the precision plan in one document. Builds add up.
   */
  public static AnalysisReport diagnose(
      Header h,
      Layerwise.Result layerwise,
      @CheckForNull FirstDivergence.Result bisect,
      @CheckForNull Amplification.Result amplify,
      @CheckForNull PrecisionSearch.Result precision,
      @CheckForNull ModelGraph g) {
    AnalysisReport lw = from(h, layerwise);
    AnalysisReport amp = amplify == null ? null : from(h, amplify, g);
    FirstFailing ff =
        bisect != null && bisect.divergence().isPresent()
            ? firstFailing(bisect.divergence().get())
            : lw.firstFailing();
    int builds =
        layerwise.candidateBuilds()
            + (bisect == null ? 0 : bisect.candidateBuilds())
            + (amplify == null ? 0 : amplify.candidateBuilds());
    AnalysisReport.Builder rep = h.report(layerwise.outputsPass(), builds).firstFailing(ff);
    List<String> warnings = new ArrayList<>(lw.warnings() == null ? List.of() : lw.warnings());
    if (amp == null) {
      rep.tensors(lw.tensors());
    } else {
      rep.tensors(withProducerMotifs(lw.tensors(), amp.nodes()))
          .nodes(amp.nodes())
          .byOpType(amp.byOpType())
          .byMotif(amp.byMotif());
      if (amp.warnings() != null) {
        warnings.addAll(amp.warnings());
      }
    }
    if (precision != null) {
      AnalysisReport p = from(h, precision);
      // The amplification that seeded the search is counted once.
      int extra = amplify != null ? precision.searchBuilds() : precision.totalBuilds();
      rep.builds(builds + extra)
          .precision(p.fp32Nodes(), p.fp16Fraction(), p.plan(), p.trtexecFlags());
      if (p.warnings() != null) {
        warnings.addAll(p.warnings());
      }
      if (ff != null
          && p.fp32Nodes() != null
          && !p.fp32Nodes().isEmpty()
          && !p.fp32Nodes().contains(ff.node())) {
        // Users expect the fix to contain the first divergence; say why it need not.
        warnings.add(
            "the first divergent node "
                + ff.node()
                + " is not in the FP32 set: with the set pinned, the "
                + "error it makes no longer carries to the outputs beyond the tolerance (the search keeps only nodes "
                + "whose removal makes an output fail); pin it too if intermediate tensors matter to you");
      }
    }
    return RootCauseAnalyzer.withRootCauses(
        rep.warnings(
                warnings.isEmpty()
                    ? null
                    : ImmutableList.copyOf(new java.util.LinkedHashSet<>(warnings)))
            .build());
  }

  /** Tensors inherit their producer's motif, which the block table uses for unnamed exports. */
  private static List<TensorRow> withProducerMotifs(List<TensorRow> tensors, List<NodeRow> nodes) {
    Map<String, String> motifOf = new HashMap<>();
    nodes.forEach(
        n -> {
          if (n.motif() != null) {
            motifOf.put(n.node(), n.motif());
          }
        });
    return tensors.stream()
        .map(
            t ->
                t.motif() == null && motifOf.containsKey(t.node())
                    ? t.withMotif(motifOf.get(t.node()))
                    : t)
        .collect(Collectors.toList());
  }
}
