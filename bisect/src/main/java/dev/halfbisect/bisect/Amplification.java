package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Amplification analysis: separates the error a node makes itself from the error it inherits.
 *
 * <ul>
 *   <li><b>local error</b>: the node computed in FP16 from the FP32 golden inputs. All nodes are
 *       measured in one candidate build of a shadow graph: every float node gets a copy {@code
 *       <node>__shadow} reading the same input tensors; the plan pins every original node to FP32
 *       and leaves the copies FP16, so the copies see golden inputs (cast to FP16 at their border,
 *       as every FP16 node's inputs are) and their outputs are observed. Nodes the shadow cannot
 *       copy (subgraphs, random or stateful ops) and nodes of a shadow build that fails even alone
 *       are measured one by one: the node alone, its inputs fed golden reference values.
 *   <li><b>inherited error</b>: the largest candidate error among its float inputs in the normal
 *       FP16 run (0 for graph inputs and weights; constant inputs, Constant outputs included, never
 *       count: their rounding is part of the node's local error).
 *   <li>Nodes TensorRT folds away at parse time ({@link ModelGraph#foldedNodes()}) are not
 *       measured; their reason is {@link #FOLDED_BY_TENSORRT}.
 *   <li><b>output error</b>: its output's error in the normal FP16 run.
 *   <li><b>amplification</b> = output error / inherited error (NaN when nothing is inherited), and
 *       <b>contribution</b> = output error - inherited error (the error this node adds).
 * </ul>
 *
 * Errors are normalized errors, worst over samples and outputs. Results are aggregated per op type
 * and per {@link Motifs motif}; motifs and nodes are ranked by {@code max(local, contribution)}.
 */
public final class Amplification {
  private static final Logger LOG = LoggerFactory.getLogger(Amplification.class);
  private static final Set<String> NOT_SHADOWABLE =
      Set.of(
          "RandomNormal",
          "RandomUniform",
          "RandomNormalLike",
          "RandomUniformLike",
          "Multinomial",
          "Bernoulli",
          "Dropout",
          "If",
          "Loop",
          "Scan");

  /** The {@link Result#unmeasured()} reason of nodes TensorRT folds away at parse time. */
  public static final String FOLDED_BY_TENSORRT =
      "folded by TensorRT at parse time (BatchNormalization fused into its Conv, or a constant"
          + " subgraph evaluated in FP32): no layer to keep in FP32";

  private Amplification() {}

  /** How a node's local error was measured. */
  public enum Method {
    SHADOW,
    SINGLE_NODE,
    NOT_MEASURED
  }

  /** One node. Errors are normalized errors (worst sample, worst float output). */
  public record NodeAmplification(
      String node,
      String opType,
      int topoPosition,
      double localError,
      boolean localPass,
      double inputError,
      double outputError,
      double amplification,
      double contribution,
      Method method) {
    /** Ranking score: what the node adds, whether born in it or amplified by it. */
    public double score() {
      return maxNanLow(localError, contribution);
    }
  }

  /** Aggregate over the nodes of one op type. */
  public record OpTypeStats(
      String opType,
      int count,
      double maxLocalError,
      double meanLocalError,
      double maxOutputError,
      double maxAmplification,
      int localFailures) {}

  /** One motif: error into it, out of it, worst local error inside it. */
  public record MotifAmplification(
      Motifs.Motif motif,
      double inputError,
      double outputError,
      double maxLocalError,
      double amplification,
      double contribution) {
    public double score() {
      return maxNanLow(maxLocalError, contribution);
    }
  }

  /**
   * @param nodes per float node, topological order
   * @param ranking node names by descending score
   * @param byOpType per op type, by descending max local error
   * @param motifs per motif, by descending score
   * @param unmeasured nodes without a local error, with the reason
   * @param candidateBuilds candidate builds made
   * @param shadowBuilds of which shadow-graph builds
   */
  public record Result(
      ImmutableList<NodeAmplification> nodes,
      ImmutableList<String> ranking,
      ImmutableList<OpTypeStats> byOpType,
      ImmutableList<MotifAmplification> motifs,
      ImmutableMap<String, String> unmeasured,
      int candidateBuilds,
      int shadowBuilds) {

    public Optional<NodeAmplification> node(String name) {
      return nodes.stream().filter(n -> n.node().equals(name)).findFirst();
    }
  }

  /** Runs the analysis. */
  public static Result analyze(BisectContext ctx) {
    ModelGraph g = ctx.model();
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    ctx.listener().phase("amplify");
    Prober.Chunked normal = normalRun(ctx);
    LocalErrors local = new LocalErrors();
    local.byShadow(ctx);
    local.singly(ctx);
    List<NodeAmplification> rows = rows(g, local, normal.tensors());
    ImmutableList<String> ranking = ranking(rows);
    int builds = p.candidateBuilds() - before;
    LOG.info(
        "amplify: {} nodes, {} by shadow in {} builds, {} single, {} unmeasured; top node {}",
        rows.size(),
        local.shadowed,
        local.shadowBuilds,
        local.single.size(),
        local.unmeasured.size(),
        ranking.isEmpty() ? "-" : ranking.get(0));
    return new Result(
        ImmutableList.copyOf(rows),
        ranking,
        byOpType(rows),
        motifs(g, rows, normal.tensors()),
        ImmutableMap.copyOf(local.unmeasured),
        builds,
        local.shadowBuilds);
  }

  /** Every float tensor in the normal FP16 run (chunked within the budget). */
  private static Prober.Chunked normalRun(BisectContext ctx) {
    List<String> tensors = ctx.model().floatTensors();
    ctx.prober().reference(tensors);
    return ctx.prober()
        .chunked(
            ctx.chunks().tensors(tensors),
            chunk -> ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), chunk));
  }

  /** Local errors of the float nodes, how each was measured, and those not measured. */
  private static final class LocalErrors {
    final Map<String, TensorComparison> errors = new HashMap<>();
    final Map<String, Method> method = new HashMap<>();
    final Map<String, String> unmeasured = new LinkedHashMap<>();

    /** Nodes left to measure one by one. */
    final List<String> single = new ArrayList<>();

    /** Nodes measured by the shadow, and its builds. */
    int shadowed;

    int shadowBuilds;

    /**
     * All shadowable nodes in one shadow build (split by the byte budget); the others, and those
     * whose shadow build failed even alone, are left for {@link #singly}.
     */
    void byShadow(BisectContext ctx) {
      ModelGraph g = ctx.model();
      Prober p = ctx.prober();
      List<String> shadowable = new ArrayList<>();
      for (String n : g.floatNodes()) {
        Onnx.NodeProto node = g.node(n);
        if (g.isFoldedByTensorRt(n)) {
          notMeasured(n, FOLDED_BY_TENSORRT);
          continue;
        }
        if (NOT_SHADOWABLE.contains(node.getOpType()) || ModelGraph.hasSubgraph(node)) {
          single.add(n);
        } else {
          shadowable.add(n);
        }
      }
      int before = p.candidateBuilds();
      // One shadow build for models whose outputs fit the byte budget; split by it otherwise.
      Prober.Chunked shadow =
          p.chunked(
              ctx.chunks().nodes(shadowable),
              chunk -> ProbeSpec.shadow(chunk, floatOutputs(g, chunk)));
      shadowBuilds = p.candidateBuilds() - before;
      shadowed = shadowable.size() - shadow.unobserved().size();
      single.addAll(shadow.unobserved().keySet());
      errors.putAll(shadow.tensors());
      for (String n : shadowable) {
        if (!shadow.unobserved().containsKey(n)) {
          method.put(n, Method.SHADOW);
          foldedAway(g, p, n).ifPresent(why -> notMeasured(n, why));
        }
      }
    }

    /** Each node left alone on golden inputs. */
    void singly(BisectContext ctx) {
      ModelGraph g = ctx.model();
      for (String n : single) {
        List<String> cuts = new ArrayList<>();
        for (String in : g.nodeInputs(g.node(n))) {
          if (!g.isInitializer(in)) {
            cuts.add(in);
          }
        }
        ProbeResult r =
            ctx.prober()
                .probe(
                    ProbeSpec.subgraph(
                        ProbeSpec.Side.CANDIDATE,
                        PrecisionPlan.allFp16(),
                        List.of(n),
                        cuts,
                        floatOutputs(g, List.of(n))));
        if (r.status() == ProbeResult.Status.BUILD_FAILED
            || r.status() == ProbeResult.Status.CRASH) {
          notMeasured(n, r.status() + ": " + r.message());
        } else {
          errors.putAll(r.tensors());
          method.put(n, Method.SINGLE_NODE);
        }
      }
    }

    /**
     * Why a shadowed node has no local error when the backend folded every output away (constants),
     * or empty.
     */
    private Optional<String> foldedAway(ModelGraph g, Prober p, String n) {
      List<String> outs = floatOutputs(g, List.of(n));
      if (outs.isEmpty() || outs.stream().anyMatch(errors::containsKey)) {
        return Optional.empty();
      }
      String why = p.candidateUnavailable().get(outs.get(0));
      return Optional.ofNullable(why != null ? why : p.referenceUnavailable().get(outs.get(0)));
    }

    private void notMeasured(String n, String why) {
      unmeasured.put(n, why);
      method.put(n, Method.NOT_MEASURED);
    }
  }

  /** One row per float node, topological order. */
  private static List<NodeAmplification> rows(
      ModelGraph g, LocalErrors local, Map<String, TensorComparison> normal) {
    List<NodeAmplification> rows = new ArrayList<>();
    for (String n : g.floatNodes()) {
      Onnx.NodeProto node = g.node(n);
      double loc = Double.NaN;
      boolean locPass = true;
      double out = 0;
      for (String o : floatOutputs(g, List.of(n))) {
        TensorComparison lc = local.errors.get(o);
        if (lc != null) {
          loc = Double.isNaN(loc) ? lc.normalizedError() : Math.max(loc, lc.normalizedError());
          locPass &= lc.pass();
        }
        TensorComparison oc = normal.get(o);
        if (oc != null) {
          out = Math.max(out, oc.normalizedError());
        }
      }
      double in = inputError(g, node, normal);
      rows.add(
          new NodeAmplification(
              n,
              node.getOpType(),
              g.topoPosition(n),
              loc,
              locPass,
              in,
              out,
              ratio(out, in),
              contribution(out, in),
              local.method.getOrDefault(n, Method.NOT_MEASURED)));
    }
    return rows;
  }

  /** Node names by descending score, ties in topological order. */
  private static ImmutableList<String> ranking(List<NodeAmplification> rows) {
    return rows.stream()
        .sorted(
            Comparator.comparingDouble(NodeAmplification::score)
                .reversed()
                .thenComparingInt(NodeAmplification::topoPosition))
        .map(NodeAmplification::node)
        .collect(ImmutableList.toImmutableList());
  }

  /** Per op type, by descending max local error. */
  private static ImmutableList<OpTypeStats> byOpType(List<NodeAmplification> rows) {
    Map<String, List<NodeAmplification>> perOp = new TreeMap<>();
    rows.forEach(r -> perOp.computeIfAbsent(r.opType(), k -> new ArrayList<>()).add(r));
    List<OpTypeStats> ops = new ArrayList<>();
    perOp.forEach(
        (op, list) ->
            ops.add(
                new OpTypeStats(
                    op,
                    list.size(),
                    list.stream().mapToDouble(r -> nanLow(r.localError())).max().orElse(0),
                    list.stream()
                        .mapToDouble(NodeAmplification::localError)
                        .filter(d -> !Double.isNaN(d))
                        .average()
                        .orElse(0),
                    list.stream().mapToDouble(NodeAmplification::outputError).max().orElse(0),
                    list.stream().mapToDouble(r -> nanLow(r.amplification())).max().orElse(0),
                    (int) list.stream().filter(r -> !r.localPass()).count())));
    ops.sort(Comparator.comparingDouble(OpTypeStats::maxLocalError).reversed());
    return ImmutableList.copyOf(ops);
  }

  /** Per motif: error into it, out of it, worst local error inside; by descending score. */
  private static ImmutableList<MotifAmplification> motifs(
      ModelGraph g, List<NodeAmplification> rows, Map<String, TensorComparison> normal) {
    Map<String, NodeAmplification> byNode = new HashMap<>();
    rows.forEach(r -> byNode.put(r.node(), r));
    List<MotifAmplification> motifs = new ArrayList<>();
    for (Motifs.Motif m : Motifs.detect(g)) {
      Set<String> members = new HashSet<>(m.nodes());
      Set<String> inside = new HashSet<>();
      m.nodes().forEach(n -> inside.addAll(g.node(n).getOutputList()));
      double in = 0;
      double out = 0;
      double loc = 0;
      for (String n : m.nodes()) {
        Onnx.NodeProto node = g.node(n);
        for (String i : Prober.floatInputs(g, node)) {
          // constants are not inherited error (a 1e-12 epsilon that FP16 flushes to 0 is not an
          // input error of 1.0): their rounding is the node's own, measured as local error
          if (!inside.contains(i) && !g.isConstant(i)) {
            TensorComparison c = normal.get(i);
            in = Math.max(in, c == null ? 0 : c.normalizedError());
          }
        }
        for (String o : node.getOutputList()) {
          boolean exits =
              g.graphOutputs().contains(o)
                  || g.consumers(o).stream().anyMatch(c -> !members.contains(c.getName()));
          TensorComparison c = normal.get(o);
          if (exits && c != null) {
            out = Math.max(out, c.normalizedError());
          }
        }
        NodeAmplification r = byNode.get(n);
        if (r != null) {
          loc = Math.max(loc, nanLow(r.localError()));
        }
      }
      motifs.add(new MotifAmplification(m, in, out, loc, ratio(out, in), contribution(out, in)));
    }
    motifs.sort(Comparator.comparingDouble(MotifAmplification::score).reversed());
    return ImmutableList.copyOf(motifs);
  }

  static List<String> floatOutputs(ModelGraph g, List<String> nodes) {
    List<String> out = new ArrayList<>();
    for (String n : nodes) {
      for (String o : g.node(n).getOutputList()) {
        if (!o.isEmpty() && g.isFloat(o)) {
          out.add(o);
        }
      }
    }
    return out;
  }

  private static double inputError(
      ModelGraph g, Onnx.NodeProto node, Map<String, TensorComparison> normal) {
    double in = 0;
    for (String i : Prober.floatInputs(g, node)) {
      TensorComparison c = g.isConstant(i) ? null : normal.get(i);
      if (c != null) {
        in = Math.max(in, c.normalizedError());
      }
    }
    return in;
  }

  static double ratio(double out, double in) {
    if (in == 0) {
      return Double.NaN;
    }
    if (Double.isInfinite(in)) {
      return Double.isInfinite(out) ? 1 : out / in;
    }
    return out / in;
  }

  static double contribution(double out, double in) {
    if (Double.isInfinite(out)) {
      return Double.isInfinite(in) ? 0 : Double.POSITIVE_INFINITY;
    }
    return out - in;
  }

  private static double nanLow(double d) {
    return Double.isNaN(d) ? Double.NEGATIVE_INFINITY : d;
  }

  static double maxNanLow(double a, double b) {
    return Math.max(nanLow(a), nanLow(b));
  }
}
