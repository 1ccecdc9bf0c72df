package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First-divergence search: binary search over the topological order for the node where the FP16
 * result leaves the reference.
 *
 * <p>One candidate build runs the whole model and picks the first failing graph output {@code o}.
 * The search space {@code A} is the float tensors {@code o} depends on, in topological order
 * ({@code A[last] = o}). A probe at position {@code k} builds the <em>prefix</em> of {@code A[k]}
 * (all its ancestors from the graph inputs) in the candidate precision and compares {@code A[k]}
 * and the float inputs of its producer with their reference values: {@code fail(k)} means
 * {@code A[k]} is out of tolerance in that FP16 computation.
 *
 * <p><b>Invariant.</b> The search keeps {@code lo < hi} with {@code fail(hi)} known and {@code lo}
 * either -1 (the graph inputs, exact by definition) or a probed position with {@code pass(lo)}. It
 * halves {@code (lo, hi)} until {@code hi = lo + 1}: a <em>boundary</em>, {@code fail(hi)} and
 * {@code pass(hi - 1)}. This needs no monotonicity: when error dips (a later tensor recovers, e.g.
 * a Tanh saturating an overflow back to 1), the search still ends on a boundary, though not
 * necessarily the earliest failing tensor of the model; an error that heals before {@code o} is by
 * definition not what breaks {@code o}, and {@link Layerwise} lists every failing tensor.
 *
 * <p><b>Origin guarantee.</b> {@code hi - 1} may lie on another branch than {@code A[hi]}'s inputs.
 * The boundary probe also measured those inputs; if one fails, the search continues below it
 * ({@code hi} := that input, no build needed for the new {@code fail(hi)}). The returned node
 * therefore has a failing output while every float input passed in the same FP16 prefix run: the
 * error is born there (on the cone of {@code o}).
 *
 * <p><b>Builds.</b> The boundary search makes at most 1 + ceil(log2 |A|) <= ceil(log2 N) + 1
 * candidate builds for N float tensors. Each refinement step adds at most ceil(log2) of the shrunk
 * range; {@link #search(BisectContext, boolean) search(ctx, false)} skips refinement and keeps the
 * bound strictly, returning the boundary (whose inputs' errors are reported, possibly failing).
 *
 * <p>A probe that fails to build, crashes, or returns NaN everywhere counts as {@code fail}.
 */
public final class FirstDivergence {
  private static final Logger LOG = LoggerFactory.getLogger(FirstDivergence.class);

  private FirstDivergence() {}

  /** One probe of the search. */
  public record Step(int index, String tensor, boolean pass, ProbeResult.Status status, double normalizedError) {}

  /** Where the FP16 result first diverges. */
  public record Divergence(String tensor, String node, String opType, int topoPosition, TensorComparison outputError,
      ImmutableList<TensorComparison> inputErrors) {}

  /**
   * @param divergence the node where error is born, empty when every graph output passes
   * @param failingOutput the graph output the search started from (empty when all pass)
   * @param searchSpace size of {@code A}
   * @param steps probes in the order made
   * @param candidateBuilds builds made (journal hits excluded)
   * @param buildBound ceil(log2 N) + 1 for N = float tensors of the model
   */
  public record Result(Optional<Divergence> divergence, Optional<String> failingOutput, int searchSpace,
      ImmutableList<Step> steps, int candidateBuilds, int buildBound) {
    public String verdict() {
      return failingOutput.isPresent() ? "fail" : "pass";
    }
  }

  /** Runs the search, refined to a node whose inputs pass. */
  public static Result search(BisectContext ctx) {
    return search(ctx, true);
  }

  /**
   * Runs the search; with {@code refineToOrigin} false it stops at the first boundary and never
   * exceeds ceil(log2 N) + 1 candidate builds.
   */
  public static Result search(BisectContext ctx, boolean refineToOrigin) {
    ModelGraph g = ctx.model();
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    int bound = ceilLog2(Math.max(1, g.floatTensors().size())) + 1;
    ctx.listener().phase("bisect");
    List<String> outputs = g.graphOutputs().stream().filter(g::isFloat).toList();
    ProbeResult full = p.probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), outputs));
    String failing = null;
    for (String o : outputs) {
      if (full.status() != ProbeResult.Status.OK || !full.tensor(o).map(TensorComparison::pass).orElse(true)) {
        failing = o;
        break;
      }
    }
    List<Step> steps = new ArrayList<>();
    if (failing == null) {
      LOG.info("bisect: every graph output passes; nothing to search");
      return new Result(Optional.empty(), Optional.empty(), 0, ImmutableList.of(), p.candidateBuilds() - before, bound);
    }
    List<String> space = new ArrayList<>();
    java.util.Set<Integer> cone = g.ancestorPositions(failing);
    for (String t : g.floatTensors()) {
      if (cone.contains(g.topoPosition(g.requireProducer(t).getName()))) {
        space.add(t);
      }
    }
    TreeMap<Integer, ProbeResult> known = new TreeMap<>();
    int hi = space.indexOf(failing);
    int lo = -1;
    while (true) {
      while (hi - lo > 1) {
        int mid = (lo + hi) >>> 1;
        ProbeResult r = prefixProbe(ctx, g, space.get(mid));
        known.put(mid, r);
        boolean pass = !fails(r, space.get(mid));
        steps.add(new Step(mid, space.get(mid), pass, r.status(),
            r.tensor(space.get(mid)).map(TensorComparison::normalizedError).orElse(Double.NaN)));
        if (pass) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      // Boundary reached: measure the inputs of A[hi] in its own FP16 prefix run.
      ProbeResult atHi = known.get(hi);
      if (atHi == null) {
        atHi = prefixProbe(ctx, g, space.get(hi));
        known.put(hi, atHi);
        steps.add(new Step(hi, space.get(hi), !fails(atHi, space.get(hi)), atHi.status(),
            atHi.tensor(space.get(hi)).map(TensorComparison::normalizedError).orElse(Double.NaN)));
      }
      Onnx.NodeProto node = g.requireProducer(space.get(hi));
      int failingInput = -1;
      for (String in : Prober.floatInputs(g, node)) {
        Optional<TensorComparison> c = atHi.tensor(in);
        if (c.isPresent() && !c.get().pass()) {
          failingInput = space.indexOf(in);
          break;
        }
      }
      if (failingInput < 0 || !refineToOrigin) {
        break;
      }
      LOG.info("bisect: boundary {} has failing input {}; continuing below it", space.get(hi), space.get(failingInput));
      hi = failingInput;
      Integer passBelow = null;
      for (var e : known.headMap(hi, false).descendingMap().entrySet()) {
        if (!fails(e.getValue(), space.get(e.getKey()))) {
          passBelow = e.getKey();
          break;
        }
      }
      lo = passBelow == null ? -1 : passBelow;
    }
    ProbeResult r = known.get(hi);
    String tensor = space.get(hi);
    Onnx.NodeProto node = g.requireProducer(tensor);
    TensorComparison out = r.tensor(tensor).orElse(null);
    ImmutableList<TensorComparison> ins = Prober.floatInputs(g, node).stream()
        .map(i -> r.tensor(i).orElse(null)).filter(java.util.Objects::nonNull)
        .collect(ImmutableList.toImmutableList());
    int builds = p.candidateBuilds() - before;
    LOG.info("bisect: first divergence at {} ({} {}), {} candidate builds (bound {})", tensor, node.getOpType(),
        node.getName(), builds, bound);
    return new Result(Optional.of(new Divergence(tensor, node.getName(), node.getOpType(),
        g.topoPosition(node.getName()), out, ins)), Optional.of(failing), space.size(), ImmutableList.copyOf(steps),
        builds, bound);
  }

  private static ProbeResult prefixProbe(BisectContext ctx, ModelGraph g, String tensor) {
    List<String> observed = new ArrayList<>();
    observed.add(tensor);
    observed.addAll(Prober.floatInputs(g, g.requireProducer(tensor)));
    return ctx.prober().probe(ProbeSpec.prefix(ctx.basePlan(), observed));
  }

  private static boolean fails(ProbeResult r, String tensor) {
    return r.status() != ProbeResult.Status.OK || !r.tensor(tensor).map(TensorComparison::pass).orElse(false);
  }

  static int ceilLog2(int n) {
    return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
  }
}
