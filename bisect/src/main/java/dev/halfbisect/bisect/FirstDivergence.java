package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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
    ctx.listener().bound(bound);
    // Constant(-foldable) tensors are not computation errors: never a start or a candidate.
    List<String> outputs =
        g.graphOutputs().stream().filter(g::isFloat).filter(o -> !g.isConstant(o)).toList();
    ProbeResult full = fullRun(ctx, outputs);
    Optional<String> failing = firstFailing(full, outputs);
    if (failing.isEmpty()) {
      LOG.info("bisect: every graph output passes; nothing to search");
      return new Result(
          Optional.empty(),
          Optional.empty(),
          0,
          ImmutableList.of(),
          p.candidateBuilds() - before,
          bound);
    }
    Search s = new Search(ctx, refinement, bound, before, searchSpace(g, failing.get()));
    s.start(failing.get(), full);
    s.run();
    return s.result(failing.get());
  }

  /**
   * The whole model in the candidate precision, observing the float outputs and the inputs of their
   * producers: the boundary probe of the failing output.
   */
  private static ProbeResult fullRun(BisectContext ctx, List<String> outputs) {
    ModelGraph g = ctx.model();
    Set<String> observed = new LinkedHashSet<>(outputs);
    for (String o : outputs) {
      g.producer(o).ifPresent(n -> observed.addAll(Prober.floatInputs(g, n)));
    }
    return ctx.prober()
        .probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), List.copyOf(observed)));
  }

  /** The first output the full run fails (every output when the run itself failed). */
  private static Optional<String> firstFailing(ProbeResult full, List<String> outputs) {
    for (String o : outputs) {
      if (full.status() != ProbeResult.Status.OK
          || !full.tensor(o).map(TensorComparison::pass).orElse(true)) {
        return Optional.of(o);
      }
    }
    return Optional.empty();
  }

  /** {@code A}: the computed float tensors {@code failing} depends on, topological order. */
  private static List<String> searchSpace(ModelGraph g, String failing) {
    List<String> space = new ArrayList<>();
    Set<Integer> cone = g.ancestorPositions(failing);
    for (String t : g.floatTensors()) {
      if (!g.isConstant(t) && cone.contains(g.topoPosition(g.requireProducer(t).getName()))) {
        space.add(t);
      }
    }
    return space;
  }

  /**
   * The state of one search over {@code A}: {@code fail(hi)} known, {@code lo} -1 or a probed pass,
   * the probes made so far by position, and the last boundary whose own probe is known.
   */
  private static final class Search {
    private final BisectContext ctx;
    private final ModelGraph g;
    private final Refinement refinement;
    private final int bound;
    private final int before;
    private final List<String> space;
    private final TreeMap<Integer, ProbeResult> known = new TreeMap<>();
    private final List<Step> steps = new ArrayList<>();
    private int lo = -1;
    private int hi;
    private int boundary = -1;
    private boolean cutShort;

    Search(BisectContext ctx, Refinement refinement, int bound, int before, List<String> space) {
      this.ctx = ctx;
      this.g = ctx.model();
      this.refinement = refinement;
      this.bound = bound;
      this.before = before;
      this.space = space;
    }

    /** Starts at the failing output; the full run is its probe when it ran. */
    void start(String failing, ProbeResult full) {
      hi = space.indexOf(failing);
      if (full.status() == ProbeResult.Status.OK && g.producer(failing).isPresent()) {
        known.put(hi, full);
      }
    }

    /**
     * Halves to a boundary, measures its inputs, and continues below a failing input while the
     * refinement allows.
     */
    void run() {
      while (narrowToBoundary() && measureBoundary()) {
        int failingInput = failingInputOfBoundary();
        if (failingInput < 0 || refinement == Refinement.NONE) {
          return;
        }
        LOG.info(
            "bisect: boundary {} has failing input {}; continuing below it",
            space.get(hi),
            space.get(failingInput));
        continueBelow(failingInput);
      }
      LOG.info(
          "bisect: refinement below {} stopped at the bound of {} candidate builds",
          space.get(boundary),
          bound);
    }

    /** Binary search until {@code hi = lo + 1}; false when refinement ran out of builds. */
    private boolean narrowToBoundary() {
      while (hi - lo > 1) {
        int mid = (lo + hi) >>> 1;
        if (!affordable(mid)) {
          return false;
        }
        if (fails(probeAt(mid), space.get(mid))) {
          hi = mid;
        } else {
          lo = mid;
        }
      }
      return true;
    }

    /** The boundary's own prefix run (its inputs' errors); false when out of builds. */
    private boolean measureBoundary() {
      if (!known.containsKey(hi)) {
        if (!affordable(hi)) {
          return false;
        }
        probeAt(hi);
      }
      boundary = hi;
      return true;
    }

    /** Position of the first computed float input of {@code A[hi]} failing in its run, or -1. */
    private int failingInputOfBoundary() {
      ProbeResult atHi = known.get(hi);
      for (String in : Prober.floatInputs(g, g.requireProducer(space.get(hi)))) {
        if (g.isConstant(in)) {
          continue;
        }
        Optional<TensorComparison> c = atHi.tensor(in);
        if (c.isPresent() && !c.get().pass()) {
          return space.indexOf(in);
        }
      }
      return -1;
    }

    /** {@code hi} := the failing input (known to fail), {@code lo} := the nearest known pass. */
    private void continueBelow(int failingInput) {
      hi = failingInput;
      lo = -1;
      for (var e : known.headMap(hi, false).descendingMap().entrySet()) {
        if (!fails(e.getValue(), space.get(e.getKey()))) {
          lo = e.getKey();
          break;
        }
      }
    }

    /**
     * Whether probing {@code A[pos]} keeps within the refinement's bound; refinement starts after
     * the first boundary.
     */
    private boolean affordable(int pos) {
      if (boundary >= 0 && overBudget(space.get(pos))) {
        cutShort = true;
        return false;
      }
      return true;
    }

    /** Whether a refinement probe of {@code tensor} would need a build beyond the bound. */
    private boolean overBudget(String tensor) {
      return refinement == Refinement.WITHIN_BOUND
          && ctx.prober().candidateBuilds() - before >= bound
          && !ctx.prober().isDecided(prefixSpec(tensor));
    }

    private ProbeResult probeAt(int pos) {
      String tensor = space.get(pos);
      ProbeResult r = ctx.prober().probe(prefixSpec(tensor));
      known.put(pos, r);
      steps.add(
          new Step(
              pos,
              tensor,
              !fails(r, tensor),
              r.status(),
              r.tensor(tensor).map(TensorComparison::normalizedError).orElse(Double.NaN)));
      return r;
    }

    /** The prefix of {@code tensor}, observing it and its producer's float inputs. */
    private ProbeSpec prefixSpec(String tensor) {
      List<String> observed = new ArrayList<>();
      observed.add(tensor);
      observed.addAll(Prober.floatInputs(g, g.requireProducer(tensor)));
      return ProbeSpec.prefix(ctx.basePlan(), observed);
    }

    /** The last boundary as the divergence. */
    Result result(String failing) {
      ProbeResult r = known.get(boundary);
      String tensor = space.get(boundary);
      Onnx.NodeProto node = g.requireProducer(tensor);
      TensorComparison out = r.tensor(tensor).orElse(null);
      ImmutableList<TensorComparison> ins =
          Prober.floatInputs(g, node).stream()
              .map(i -> r.tensor(i).orElse(null))
              .filter(Objects::nonNull)
              .collect(ImmutableList.toImmutableList());
      int builds = ctx.prober().candidateBuilds() - before;
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
  }

  private static boolean fails(ProbeResult r, String tensor) {
    return r.status() != ProbeResult.Status.OK
        || !r.tensor(tensor).map(TensorComparison::pass).orElse(false);
  }

  static int ceilLog2(int n) {
    return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
  }
}
