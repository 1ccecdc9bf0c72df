package dev.halfbisect.report.mapping;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.Headroom;
import dev.halfbisect.core.Bf16;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.BuildRecipe;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.report.blocks.BlockTable;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.FirstFailing;
import dev.halfbisect.report.model.HeadroomView;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.model.TensorRow;
import dev.halfbisect.report.model.ToleranceView;
import dev.halfbisect.report.text.Fmt;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.annotation.CheckForNull;

/**
 * Classifies the error of each hotspot node from the evidence in a report.
 *
 * <p>Hotspots: the first failing node, the nodes with the largest local error above {@link
 * #ERROR_LIMIT} (at most {@link #MAX_BY_LOCAL}), the strongest amplifiers (amplification at least
 * {@link #AMPLIFIED} with a failing output, at most {@link #MAX_AMPLIFIERS}), and, without
 * amplification data, nodes whose outputs show overflow evidence.
 *
 * <p>Classes, first match wins: <b>overflow</b> when a tensor of the node (output, or input when
 * known) has reference values with |x| &gt; 65504 and the candidate is inf/NaN where the reference
 * is finite (a reference beyond 65504 with a finite candidate is a constant TensorRT clamps, not an
 * overflow), the node's local error is infinite (its FP16 copy fed FP32 inputs overflows: the same
 * class in amplify and diagnose), or an initializer exceeds 65504; <b>underflow</b> when at least
 * {@link #FLUSHED_SHARE} of a tensor's reference values are below 2^-24 (flushed to zero) or {@link
 * #SUBNORMAL_SHARE} below 2^-14 (subnormal, few bits); <b>amplified</b> when the node's local error
 * is at most {@link #ERROR_LIMIT} but it amplifies its inputs' error at least {@link #AMPLIFIED}x;
 * <b>rounding-accumulation</b> otherwise.
 */
public final class RootCauseAnalyzer {
  static final double FP16_MAX = 65504.0;

  /**
   * Normalized error above which a node's own (local) error counts as large: the default tolerance.
   */
  public static final double ERROR_LIMIT = ToleranceView.DEFAULT_NORMALIZED_ERROR_LIMIT;

  public static final double AMPLIFIED = 10.0;
  public static final double FLUSHED_SHARE = 0.01;
  public static final double SUBNORMAL_SHARE = 0.10;
  static final int MAX_BY_LOCAL = 5;
  static final int MAX_AMPLIFIERS = 3;
  static final int MAX_HOTSPOTS = 8;

  private static final Set<String> REDUCTIONS =
      Set.of(
          "ReduceMean",
          "ReduceSum",
          "ReduceSumSquare",
          "ReduceL2",
          "ReduceMax",
          "ReduceLogSumExp",
          "Softmax",
          "LogSoftmax",
          "Pow",
          "Sqrt");
  private static final Set<String> ACCUMULATING =
      Set.of(
          "MatMul",
          "Gemm",
          "Conv",
          "ConvTranspose",
          "FusedMatMul",
          "Einsum",
          "ReduceSum",
          "ReduceMean");

  private RootCauseAnalyzer() {}

  /**
   * Root causes of the report's hotspots, in hotspot order; empty for a passing report without
   * hotspots.
   */
  public static List<RootCause> analyze(AnalysisReport report) {
    Map<String, TensorRow> byTensor = new LinkedHashMap<>();
    Map<String, List<TensorRow>> byNode = new LinkedHashMap<>();
    for (TensorRow t : report.tensorsOrEmpty()) {
      byTensor.put(t.name(), t);
      byNode.computeIfAbsent(t.node(), k -> new ArrayList<>()).add(t);
    }
    Map<String, NodeRow> nodes = new LinkedHashMap<>();
    report.nodesOrEmpty().forEach(n -> nodes.put(n.node(), n));

    FirstFailing ff = report.firstFailing();
    TypeFacts type = TypeFacts.of(report.backend().candidate());
    List<RootCause> out = new ArrayList<>();
    for (Map.Entry<String, String> h : hotspots(report, nodes.isEmpty()).entrySet()) {
      if (out.size() >= MAX_HOTSPOTS) {
        break;
      }
      String node = h.getKey();
      NodeRow nr = nodes.get(node);
      String motif = nr != null && nr.motif() != null ? nr.motif() : motifOf(byNode.get(node));
      out.add(
          classify(
              node,
              h.getValue(),
              motif,
              evidence(node, byTensor, byNode, nr, ff),
              nr,
              ff == null ? null : ff.node(),
              type));
    }
    return ImmutableList.copyOf(out);
  }

  /**
   * Graph inputs whose sample values FP16 cannot hold (the headroom block lists them) in a failing
   * report: the first cause of every overflow downstream, whatever node the search blames first.
   * Not for BF16, which has float32's range.
   */
  private static List<RootCause> inputsBeyondRange(AnalysisReport report, TypeFacts type) {
    List<RootCause> out = new ArrayList<>();
    // a passing run has no cause to explain: an additive mask input of -1e9 is beyond 65504 too,
    // and harmless where the softmax turns its -inf into 0
    if (report.passed() || report.headroom() == null || type.low() == LowPrecision.BF16) {
      return out;
    }
    for (HeadroomView.AtRisk a : report.headroom().atRisk()) {
      if (!Headroom.isGraphInput(a.node(), a.opType()) || a.refMaxAbs() <= FP16_MAX) {
        continue;
      }
      out.add(
          new RootCause(
              a.tensor(),
              a.opType(),
              RootCause.Cause.OVERFLOW,
              "graph input "
                  + a.tensor()
                  + " reaches |x| = "
                  + Fmt.sci(a.refMaxAbs())
                  + " (> 65504, "
                  + a.location()
                  + "): FP16 cannot hold it, so every FP16 layer that reads it overflows",
              List.of(
                  "Scale "
                      + a.tensor()
                      + " into FP16's range before the model (normalize it), or fold the scale"
                      + " into the first layer's weights",
                  "Or keep the nodes that read "
                      + a.tensor()
                      + " in FP32 (the next root causes name them)")));
    }
    return out;
  }

  /**
   * The report with the causes of its graph inputs beyond FP16's range first among its root causes,
   * once. Separate from {@link #analyze}: the headroom block they come from is added to a report
   * after its other root causes were computed.
   */
  public static AnalysisReport withInputCauses(AnalysisReport report) {
    List<RootCause> inputs = inputsBeyondRange(report, TypeFacts.of(report.backend().candidate()));
    if (inputs.isEmpty()) {
      return report;
    }
    List<RootCause> all = new ArrayList<>(inputs);
    for (RootCause rc : report.rootCauses() == null ? List.<RootCause>of() : report.rootCauses()) {
      if (inputs.stream().noneMatch(i -> i.node().equals(rc.node()))) {
        all.add(rc);
      }
    }
    return report.withRootCauses(all);
  }

  /** The report with root causes computed from its own evidence (none: {@code rootCauses} null). */
  public static AnalysisReport withRootCauses(AnalysisReport report) {
    List<RootCause> rc = analyze(report);
    return report.withRootCauses(rc.isEmpty() ? null : rc);
  }

  /**
   * Hotspot nodes (name to op type) in order: the first failing node, the largest local errors, the
   * strongest amplifiers, and without amplification rows the tensors with overflow evidence.
   */
  private static Map<String, String> hotspots(AnalysisReport report, boolean noAmplification) {
    Map<String, String> hotspots = new LinkedHashMap<>();
    FirstFailing ff = report.firstFailing();
    if (ff != null) {
      hotspots.put(ff.node(), ff.opType());
    }
    report.nodesOrEmpty().stream()
        .filter(n -> n.localError() > ERROR_LIMIT)
        .sorted(Comparator.comparingDouble(NodeRow::localError).reversed())
        .limit(MAX_BY_LOCAL)
        .forEach(n -> hotspots.putIfAbsent(n.node(), n.opType()));
    report.nodesOrEmpty().stream()
        .filter(n -> n.amplification() >= AMPLIFIED && n.outputError() > ERROR_LIMIT)
        .sorted(Comparator.comparingDouble(NodeRow::amplification).reversed())
        .limit(MAX_AMPLIFIERS)
        .forEach(n -> hotspots.putIfAbsent(n.node(), n.opType()));
    if (noAmplification) {
      for (TensorRow t : report.tensorsOrEmpty()) {
        if (hotspots.size() >= MAX_BY_LOCAL) {
          break;
        }
        if (overflowEvidence(t) != null) {
          hotspots.putIfAbsent(t.node(), t.opType());
        }
      }
    }
    return hotspots;
  }

  /** The node's own tensors, then its known inputs (amplification row, first divergence). */
  private static List<TensorRow> evidence(
      String node,
      Map<String, TensorRow> byTensor,
      Map<String, List<TensorRow>> byNode,
      @CheckForNull NodeRow nr,
      @CheckForNull FirstFailing ff) {
    List<TensorRow> evidence = new ArrayList<>(byNode.getOrDefault(node, List.of()));
    if (nr != null && nr.inputs() != null) {
      nr.inputs().stream().map(byTensor::get).filter(t -> t != null).forEach(evidence::add);
    }
    if (ff != null && ff.node().equals(node) && ff.inputErrors() != null) {
      ff.inputErrors().stream()
          .map(i -> byTensor.get(i.tensor()))
          .filter(t -> t != null)
          .forEach(evidence::add);
    }
    return evidence;
  }

  /** One hotspot under classification: what is known about it and the fix every class offers. */
  private record Hotspot(
      String node,
      String opType,
      @CheckForNull String motif,
      List<TensorRow> evidence,
      @CheckForNull NodeRow amp,
      boolean decomposedNorm,
      TypeFacts type) {
    String pin() {
      return "Keep " + node + " in FP32: " + type.pinAdvice(node);
    }

    RootCause cause(RootCause.Cause c, String evidenceText, List<String> suggestions) {
      return new RootCause(node, opType, c, evidenceText, suggestions);
    }
  }

  /**
   * Classifies one node from its tensors' evidence and (optional) amplification row: overflow,
   * underflow, amplified, else rounding-accumulation.
   */
  static RootCause classify(
      String node,
      String opType,
      @CheckForNull String motif,
      List<TensorRow> evidence,
      @CheckForNull NodeRow amp,
      @CheckForNull String firstDivergence) {
    return classify(node, opType, motif, evidence, amp, firstDivergence, TypeFacts.of("trt:fp16"));
  }

  /** As above for a candidate of the given type and typing (issue 19: BF16, strong typing). */
  static RootCause classify(
      String node,
      String opType,
      @CheckForNull String motif,
      List<TensorRow> evidence,
      @CheckForNull NodeRow amp,
      @CheckForNull String firstDivergence,
      TypeFacts type) {
    Hotspot h =
        new Hotspot(
            node, opType, motif, evidence, amp, isDecomposedLayerNorm(node, opType, motif), type);
    return overflow(h)
        .or(() -> underflow(h))
        .or(() -> amplified(h, firstDivergence))
        .orElseGet(() -> roundingAccumulation(h));
  }

  /** Values beyond FP16's range in a tensor of the node, or an initializer beyond it. */
  private static Optional<RootCause> overflow(Hotspot h) {
    if (h.type().low() == LowPrecision.BF16) {
      return bf16Overflow(h);
    }
    String overflow = null;
    for (TensorRow t : h.evidence()) {
      overflow = overflowEvidence(t);
      if (overflow != null) {
        break;
      }
    }
    if (overflow == null && h.amp() != null && Double.isInfinite(h.amp().localError())) {
      // the same evidence diagnose's tensors give: the node's own FP16 result is inf/NaN
      overflow =
          "the node computed in FP16 from FP32 inputs gives inf or NaN where FP32 is finite"
              + " (local error inf)";
    }
    Double w = h.amp() == null ? null : h.amp().weightMaxAbs();
    boolean bigWeights = w != null && w > FP16_MAX;
    if (overflow == null && bigWeights) {
      overflow = "an initializer of the node reaches |w| = " + Fmt.sci(w) + " > 65504";
    }
    if (overflow == null) {
      return Optional.empty();
    }
    List<String> s = new ArrayList<>();
    s.add(h.pin());
    if (bigWeights) {
      s.add(
          "Rescale the weights of "
              + h.node()
              + " (largest |w| = "
              + Fmt.sci(w)
              + "): fold a power-of-two factor into a neighbouring op so they fit FP16");
    }
    if (h.decomposedNorm()) {
      s.add(opsetAdvice());
    }
    if (REDUCTIONS.contains(h.opType()) || "Softmax".equalsIgnoreCase(h.motif())) {
      s.add(
          "Keep Softmax and reductions (ReduceMean/ReduceSum/Pow) in FP32: they sum squares or "
              + "exponentials that exceed 65504 in FP16");
    }
    s.add(
        "Rescale the inputs (normalize their range) or the preceding weights so |x| stays below 65504");
    return Optional.of(h.cause(RootCause.Cause.OVERFLOW, overflow, s));
  }

  /**
   * BF16 has float32's range (issue 19): overflow only where the candidate turns finite reference
   * values into inf/NaN or the reference itself reaches BF16's largest value.
   */
  private static Optional<RootCause> bf16Overflow(Hotspot h) {
    for (TensorRow t : h.evidence()) {
      String ev = null;
      if (t.refMaxAbs() != null && t.refMaxAbs() > Bf16.MAX_VALUE) {
        ev =
            "reference |x| reaches "
                + Fmt.sci(t.refMaxAbs())
                + " (> BF16's 3.39e38) in "
                + t.name();
      } else if (t.nonFiniteWhereRefFinite() != null && t.nonFiniteWhereRefFinite() > 0) {
        ev =
            "candidate has "
                + t.nonFiniteWhereRefFinite()
                + " inf/NaN values in "
                + t.name()
                + " where the reference is finite";
      }
      if (ev != null) {
        return Optional.of(
            h.cause(
                RootCause.Cause.OVERFLOW,
                ev,
                List.of(
                    h.pin(),
                    "BF16 has float32's range, so this is rare: look for a division by a value "
                        + "that rounds to 0 or an exp/pow of an input that BF16 rounding moved")));
      }
    }
    return Optional.empty();
  }

  /** A large share of a tensor's reference values flushed to zero or subnormal in FP16. */
  private static Optional<RootCause> underflow(Hotspot h) {
    if (h.type().low() == LowPrecision.BF16) {
      return Optional.empty(); // BF16's normal range starts at 2^-126, float32's
    }
    for (TensorRow t : h.evidence()) {
      if (t.elements() == null || t.elements() == 0) {
        continue;
      }
      double n = t.elements();
      double flushed =
          t.refCountBelowFp16MinSubnormal() == null ? 0 : t.refCountBelowFp16MinSubnormal() / n;
      double sub = t.refCountBelowFp16MinNormal() == null ? 0 : t.refCountBelowFp16MinNormal() / n;
      if (flushed >= FLUSHED_SHARE || sub >= SUBNORMAL_SHARE) {
        String ev =
            "tensor "
                + t.name()
                + ": "
                + Fmt.percent(flushed)
                + " of reference values are below 2^-24 (flushed to 0 in FP16) and "
                + Fmt.percent(sub)
                + " below 2^-14 (subnormal)";
        List<String> s = new ArrayList<>();
        s.add(h.pin());
        if (h.decomposedNorm()) {
          s.add(
              "A LayerNorm epsilon below 2^-24 (e.g. 1e-12) is 0 in FP16: use eps >= 1e-5 or keep the LayerNorm in FP32");
          s.add(opsetAdvice());
        }
        s.add(
            "Scale the values up before "
                + h.node()
                + " (multiply by 2^k, divide after) so they stay in FP16's normal range");
        return Optional.of(h.cause(RootCause.Cause.UNDERFLOW, ev, s));
      }
    }
    return Optional.empty();
  }

  /** Small local error but a large gain on the inherited input error. */
  private static Optional<RootCause> amplified(Hotspot h, @CheckForNull String firstDivergence) {
    NodeRow amp = h.amp();
    if (amp == null || !(amp.localError() <= ERROR_LIMIT) || !(amp.amplification() >= AMPLIFIED)) {
      return Optional.empty();
    }
    String ev =
        "local error "
            + Fmt.sci(amp.localError())
            + " is small but the node amplifies its input error "
            + Fmt.sci(amp.inputError())
            + " "
            + Fmt.times(amp.amplification())
            + " to "
            + Fmt.sci(amp.outputError());
    List<String> s = new ArrayList<>();
    if (firstDivergence != null && !firstDivergence.equals(h.node())) {
      s.add(
          "The error is inherited: fix its source first (first divergence at "
              + firstDivergence
              + ")");
    }
    s.add(
        "Keep "
            + h.node()
            + " in FP32 so it stops magnifying inherited error: "
            + h.type().pinAdvice(h.node()));
    if (h.decomposedNorm()) {
      s.add(opsetAdvice());
    }
    return Optional.of(h.cause(RootCause.Cause.AMPLIFIED, ev, s));
  }

  /** Error born in the node by FP16 rounding or accumulation, with no range problem. */
  private static RootCause roundingAccumulation(Hotspot h) {
    StringBuilder ev = new StringBuilder();
    NodeRow amp = h.amp();
    if (amp != null) {
      ev.append("local error ")
          .append(Fmt.sci(amp.localError()))
          .append(" (FP16 copy fed FP32 inputs), output error ")
          .append(Fmt.sci(amp.outputError()));
    } else {
      TensorRow worst =
          h.evidence().stream()
              .max(Comparator.comparingDouble(TensorRow::normalizedError))
              .orElse(null);
      ev.append(
          worst == null
              ? "error appears at this node"
              : "normalized error " + Fmt.sci(worst.normalizedError()) + " at " + worst.name());
    }
    ev.append("; no value beyond ").append(h.type().low().name()).append("'s range");
    List<String> s = new ArrayList<>();
    s.add(h.pin());
    if (h.type().low() == LowPrecision.BF16) {
      s.add(
          "BF16 trades precision for range: 8 significant bits (rounding error 2^-8, 8x FP16's), "
              + "so sums of many terms and differences of close values lose digits; keep "
              + h.node()
              + " in FP32 or use FP16 if its values stay below 65504");
    }
    if (ACCUMULATING.contains(h.opType())) {
      s.add("Long FP16 accumulation in " + h.opType() + ": keep it in FP32 or split the reduction");
    }
    if ("Softmax".equals(h.opType()) || "Softmax".equalsIgnoreCase(h.motif())) {
      s.add("Keep Softmax in FP32 (exponentials and their sum lose precision in FP16)");
    }
    if (h.decomposedNorm()) {
      s.add(opsetAdvice());
    }
    return h.cause(RootCause.Cause.ROUNDING_ACCUMULATION, ev.toString(), s);
  }

  /**
   * Why the tensor shows an FP16 overflow, or null. A reference beyond 65504 whose candidate is
   * finite everywhere is a saturated constant (TensorRT clamps the -3.4e38 of attention masks to
   * -65504 at parse time), not an overflow: an FP16 overflow makes the candidate inf.
   */
  @CheckForNull
  static String overflowEvidence(TensorRow t) {
    boolean saturatedOnly = t.nonFiniteWhereRefFinite() != null && t.nonFiniteWhereRefFinite() == 0;
    if (saturatedOnly) {
      return null;
    }
    if (t.refCountAboveFp16Max() != null && t.refCountAboveFp16Max() > 0) {
      return "reference |x| reaches "
          + (t.refMaxAbs() == null ? "> 65504" : Fmt.sci(t.refMaxAbs()))
          + " (> 65504, "
          + t.refCountAboveFp16Max()
          + " values) in "
          + t.name();
    }
    if (t.refMaxAbs() != null && t.refMaxAbs() > FP16_MAX) {
      return "reference |x| reaches " + Fmt.sci(t.refMaxAbs()) + " (> 65504) in " + t.name();
    }
    if (t.nonFiniteWhereRefFinite() != null && t.nonFiniteWhereRefFinite() > 0) {
      return "candidate has "
          + t.nonFiniteWhereRefFinite()
          + " inf/NaN values in "
          + t.name()
          + " where the reference is finite";
    }
    return null;
  }

  static String pinFlags(String node) {
    return PrecisionPlan.fp16Except(List.of(node)).toTrtexecFlags();
  }

  /**
   * The candidate's low-precision type and typing (issue 19), read from its {@code backend:mode}
   * label: what the classes' thresholds and fixes depend on.
   */
  record TypeFacts(LowPrecision low, boolean strong) {
    static TypeFacts of(String candidateLabel) {
      BuildRecipe r = BuildRecipe.forCandidateLabel(PrecisionPlan.allFp16(), candidateLabel);
      return new TypeFacts(r.low(), r.stronglyTyped());
    }

    /** How to keep {@code node} in FP32 with this candidate's build. */
    String pinAdvice(String node) {
      if (!strong) {
        return "trtexec " + pinFlags(node) + " (or add it to --plan fp32Nodes)";
      }
      return "add it to the plan's fp32Nodes and rebuild the Cast-placed model ("
          + "halfbisect surgeon fp16 MODEL --plan plan.json"
          + (low == LowPrecision.BF16 ? " --type bf16" : "")
          + " -o model-"
          + low.id()
          + ".onnx; trtexec --onnx=model-"
          + low.id()
          + ".onnx --stronglyTyped --noTF32)";
    }
  }

  private static String opsetAdvice() {
    return "Export with opset >= 17 so the LayerNorm becomes one LayerNormalization node "
        + "(one TensorRT INormalizationLayer) instead of FP16 ReduceMean/Pow/Sqrt, or keep the "
        + "LayerNorm nodes in FP32";
  }

  @CheckForNull
  private static String motifOf(@CheckForNull List<TensorRow> rows) {
    if (rows == null) {
      return null;
    }
    return rows.stream().map(TensorRow::motif).filter(m -> m != null).findFirst().orElse(null);
  }

  static boolean isDecomposedLayerNorm(String node, String opType, @CheckForNull String motif) {
    if (opType.equals("LayerNormalization")) {
      return false;
    }
    if (motif != null && motif.toLowerCase(Locale.ROOT).contains("layernorm")) {
      return true;
    }
    String scope = BlockTable.scope(node).toLowerCase(Locale.ROOT);
    String last = scope.substring(scope.lastIndexOf('/') + 1);
    return Set.of("ReduceMean", "Pow", "Sqrt", "Sub", "Div", "Add", "Mul").contains(opType)
        && (last.contains("norm") || last.matches("(?:.*_)?ln(?:_?\\d+)?"));
  }
}
