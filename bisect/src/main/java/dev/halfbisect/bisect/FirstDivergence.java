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
 * and the float inputs of its producer with their reference values: {@code fail(k)} means {@code
 * A[k]} is out of tolerance in that FP16 computation.
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
 * <p><b>Builds.</b> The full run also observes the float inputs of every graph output's producer,
 * so the boundary search makes at most 1 + ceil(log2 |A|) <= ceil(log2 N) + 1 candidate builds for
 * N float tensors. By default ({@link Refinement#WITHIN_BOUND}) refinement only spends the builds
 * left within that bound and stops at the last boundary when a further build would exceed it
 * ({@link Result#refinementCutShort()}); {@link Refinement#UNBOUNDED} refines to the origin
 * whatever it costs (each step adds at most ceil(log2) of the shrunk range); {@link
 * Refinement#NONE} returns the first boundary (whose inputs' errors are reported, possibly
 * failing).
 *
 * <p>A probe that fails to build, crashes, or returns NaN everywhere counts as {@code fail}.
 */
public final class FirstDivergence {
  private static final Logger LOG = LoggerFactory.getLogger(FirstDivergence.class);

  private FirstDivergence() {}

  /** One probe of the search. */
  public record Step(
      int index, String tensor, boolean pass, ProbeResult.Status status, double normalizedError) {}

  /** Where the FP16 result first diverges. */
  public record Divergence(
      String tensor,
      String node,
      String opType,
      int topoPosition,
      TensorComparison outputError,
      ImmutableList<TensorComparison> inputErrors) {}

  /** How far the search goes past the first boundary towards the node where error is born. */
  public enum Refinement {
    /** Stop at the first boundary. */
    NONE,
    /** Refine with the builds left within ceil(log2 N) + 1 (the default). */
    WITHIN_BOUND,
    /** Refine until the returned node's inputs pass, whatever it costs. */
    UNBOUNDED
  }

  /**
   * @param divergence the node where error is born, empty when every graph output passes
   * @param failingOutput the graph output the search started from (empty when all pass)
   * @param searchSpace size of {@code A}
   * @param steps probes in the order made
   * @param candidateBuilds builds made (journal hits excluded)
   * @param buildBound ceil(log2 N) + 1 for N = float tensors of the model
   * @param refinementCutShort whether refinement stopped at a boundary with a failing input because
   *     the next build would have exceeded {@code buildBound}
   */
  public record Result(
      Optional<Divergence> divergence,
      Optional<String> failingOutput,
      int searchSpace,
      ImmutableList<Step> steps,
      int candidateBuilds,
      int buildBound,
      boolean refinementCutShort) {
    /** A result whose refinement was not cut short. */
    public Result(
        Optional<Divergence> divergence,
        Optional<String> failingOutput,
        int searchSpace,
        ImmutableList<Step> steps,
        int candidateBuilds,
        int buildBound) {
      this(divergence, failingOutput, searchSpace, steps, candidateBuilds, buildBound, false);
    }

    public String verdict() {
      return failingOutput.isPresent() ? "fail" : "pass";
    }
  }

  /** Runs the search, refined towards a node whose inputs pass within ceil(log2 N) + 1 builds. */
  public static Result search(BisectContext ctx) {
    return search(ctx, Refinement.WITHIN_BOUND);
  }

  /**
   * Runs the search; {@code refineToOrigin} true refines without a build bound ({@link
   * Refinement#UNBOUNDED}), false stops at the first boundary ({@link Refinement#NONE}).
   */
  public static Result search(BisectContext ctx, boolean refineToOrigin) {
    return search(ctx, refineToOrigin ? Refinement.UNBOUNDED : Refinement.NONE);
  }

  /** Runs the search with the given refinement. */
  public static Result search(BisectContext ctx, Refinement refinement) {
    ModelGraph g = ctx.model();
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    int bound = ceilLog2(Math.max(1, g.floatTensors().size())) + 1;
    ctx.listener().phase("bisect");
    // Constant(-foldable) tensors are not computation errors: never a start or a candidate.
    List<String> outputs =
        g.graphOutputs().stream().filter(g::isFloat).filter(o -> !g.isConstant(o)).toList();
    // Observing the outputs' inputs too makes the full run the boundary probe of the failing
    // output.
    java.util.Set<String> observed = new java.util.LinkedHashSet<>(outputs);
    for (String o : outputs) {
      g.producer(o).ifPresent(n -> observed.addAll(Prober.floatInputs(g, n)));
    }
    ProbeResult full =
        p.probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), List.copyOf(observed)));
    String failing = null;
    for (String o : outputs) {
      if (full.status() != ProbeResult.Status.OK
          || !full.tensor(o).map(TensorComparison::pass).orElse(true)) {
        failing = o;
        break;
      }
    }
    List<Step> steps = new ArrayList<>();
    if (failing == null) {
      LOG.info("bisect: every graph output passes; nothing to search");
      return new Result(
          Optional.empty(),
          Optional.empty(),
          0,
          ImmutableList.of(),
          p.candidateBuilds() - before,
          bound);
    }
    List<String> space = new ArrayList<>();
    java.util.Set<Integer> cone = g.ancestorPositions(failing);
    for (String t : g.floatTensors()) {
      if (!g.isConstant(t) && cone.contains(g.topoPosition(g.requireProducer(t).getName()))) {
        space.add(t);
      }
    }
    TreeMap<Integer, ProbeResult> known = new TreeMap<>();
    int hi = space.indexOf(failing);
    if (full.status() == ProbeResult.Status.OK && g.producer(failing).isPresent()) {
      known.put(hi, full);
    }
    int lo = -1;
    int boundary = -1; // the last boundary whose own probe is known
    boolean cutShort = false;
    search:
    while (true) {
      while (hi - lo > 1) {
        int mid = (lo + hi) >>> 1;
        if (boundary >= 0 && overBudget(ctx, g, space.get(mid), refinement, bound, before)) {
          cutShort = true;
          break search;
        }
        ProbeResult r = prefixProbe(ctx, g, space.get(mid));
        known.put(mid, r);
        boolean pass = !fails(r, space.get(mid));
        steps.add(
            new Step(
                mid,
                space.get(mid),
                pass,
                r.status(),
                r.tensor(space.get(mid))
                    .map(TensorComparison::normalizedError)
                    .orElse(Double.NaN)));
        if (pass) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      // Boundary reached: measure the inputs of A[hi] in its own FP16 prefix run.
      ProbeResult atHi = known.get(hi);
      if (atHi == null) {
        if (boundary >= 0 && overBudget(ctx, g, space.get(hi), refinement, bound, before)) {
          cutShort = true;
          break;
        }
        atHi = prefixProbe(ctx, g, space.get(hi));
        known.put(hi, atHi);
        steps.add(
            new Step(
                hi,
                space.get(hi),
                !fails(atHi, space.get(hi)),
                atHi.status(),
                atHi.tensor(space.get(hi))
                    .map(TensorComparison::normalizedError)
                    .orElse(Double.NaN)));
      }
      boundary = hi;
      Onnx.NodeProto node = g.requireProducer(space.get(hi));
      int failingInput = -1;
      for (String in : Prober.floatInputs(g, node)) {
        if (g.isConstant(in)) {
          continue;
        }
        Optional<TensorComparison> c = atHi.tensor(in);
        if (c.isPresent() && !c.get().pass()) {
          failingInput = space.indexOf(in);
          break;
        }
      }
      if (failingInput < 0 || refinement == Refinement.NONE) {
        break;
      }
      LOG.info(
          "bisect: boundary {} has failing input {}; continuing below it",
          space.get(hi),
          space.get(failingInput));
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
    if (cutShort) {
      LOG.info(
          "bisect: refinement below {} stopped at the bound of {} candidate builds",
          space.get(boundary),
          bound);
    }
    hi = boundary;
    ProbeResult r = known.get(hi);
    String tensor = space.get(hi);
    Onnx.NodeProto node = g.requireProducer(tensor);
    TensorComparison out = r.tensor(tensor).orElse(null);
    ImmutableList<TensorComparison> ins =
        Prober.floatInputs(g, node).stream()
            .map(i -> r.tensor(i).orElse(null))
            .filter(java.util.Objects::nonNull)
            .collect(ImmutableList.toImmutableList());
    int builds = p.candidateBuilds() - before;
    LOG.info(
        "bisect: first divergence at {} ({} {}), {} candidate builds (bound {})",
        tensor,
        node.getOpType(),
        node.getName(),
        builds,
        bound);
    return new Result(
        Optional.of(
            new Divergence(
                tensor,
                node.getName(),
                node.getOpType(),
                g.topoPosition(node.getName()),
                out,
                ins)),
        Optional.of(failing),
        space.size(),
        ImmutableList.copyOf(steps),
        builds,
        bound,
        cutShort);
  }

  /** Whether a refinement probe of {@code tensor} would need a build beyond the bound. */
  private static boolean overBudget(
      BisectContext ctx,
      ModelGraph g,
      String tensor,
      Refinement refinement,
      int bound,
      int before) {
    return refinement == Refinement.WITHIN_BOUND
        && ctx.prober().candidateBuilds() - before >= bound
        && !ctx.prober().isDecided(prefixSpec(ctx, g, tensor));
  }

  private static ProbeResult prefixProbe(BisectContext ctx, ModelGraph g, String tensor) {
    return ctx.prober().probe(prefixSpec(ctx, g, tensor));
  }

  private static ProbeSpec prefixSpec(BisectContext ctx, ModelGraph g, String tensor) {
    List<String> observed = new ArrayList<>();
    observed.add(tensor);
    observed.addAll(Prober.floatInputs(g, g.requireProducer(tensor)));
    return ProbeSpec.prefix(ctx.basePlan(), observed);
  }

  private static boolean fails(ProbeResult r, String tensor) {
    return r.status() != ProbeResult.Status.OK
        || !r.tensor(tensor).map(TensorComparison::pass).orElse(false);
  }

  static int ceilLog2(int n) {
    return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
  }
}
