package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Precision search: a 1-minimal set of ONNX nodes to pin to FP32 so that every graph output meets
 * tolerance on every sample. Sets need not be contiguous.
 *
 * <ol>
 *   <li>Overflow: nodes where FP16 overflows on their own (the amplification analysis computed them
 *       in FP16 from FP32 inputs and got inf or NaN where FP32 is finite) are pinned up front and
 *       stay pinned ({@link Options#pinOverflows}). An overflow can hide behind a tolerance that
 *       the outputs still meet (a LayerNorm whose variance overflows zeroes a residual branch), but
 *       it is a defect for other inputs, and pinning it first often makes the rest of the search
 *       short. Constant tensors (attention-mask fills such as -3.4e38) are not counted.
 *   <li>Nodes TensorRT folds away at parse time ({@link ModelGraph#foldedNodes()}: fused
 *       BatchNormalizations, constant subgraphs, Constants) are never pinned: TensorRT has no layer
 *       for them.
 *   <li>Seed: the {@link Amplification} ranking, grouped into units (a node, or its whole motif at
 *       the rank of its best node). Pinning growing prefixes of the ranked units (1, 2, 4, ...
 *       units, then binary search between the last failing and the first passing size) finds a
 *       passing set in O(log) builds when the ranking is good.
 *   <li>Minimise: delta debugging (ddmin) over that set keeps a passing subset, testing halves,
 *       complements and finer partitions (complements only, once every part of a partition has
 *       failed alone, in one sweep over the parts a granularity); at single nodes {@link DropEach}
 *       removes them one at a time until removing any single pinned node fails, so the result is
 *       1-minimal (each test that decides it is a real candidate build).
 * </ol>
 *
 * A probe that fails to build, crashes or gives NaN counts as failing. Identical plans are built
 * once per context (and never again when a journal holds them).
 *
 * <p><b>Parallel probes (issue 18).</b> With the context's parallelism k > 1, ddmin tests up to k
 * of a partition's subsets (then complements) in one round and the binary search over prefix sizes
 * becomes k-ary; the first passing set in partition order is taken, so the plan is the one the
 * sequential search finds, in fewer rounds and at most k - 1 speculative builds more per round.
 */
public final class PrecisionSearch {
  private static final Logger LOG = LoggerFactory.getLogger(PrecisionSearch.class);

  private PrecisionSearch() {}

  /** Stop reason of a search that showed its plan 1-minimal (or found nothing to pin). */
  public static final String STOP_MINIMAL = "1-minimal: removing any single pinned node fails";

  /** Stop reason of a search that found no passing plan. */
  public static final String STOP_NO_PLAN =
      "no plan passes: the outputs fail even with every float node in FP32";

  /** One tested set. */
  public record Step(String phase, int pinned, boolean pass) {}

  /**
   * Search options.
   *
   * @param maxSearchBuilds candidate builds the search itself may make (the seeding amplification
   *     and the growth phase that finds a first passing set are not limited); when they run out the
   *     smallest passing set so far is returned with {@code oneMinimal = false}
   * @param pinOverflows whether nodes that overflow FP16 on their own are pinned up front
   */
  public record Options(int maxSearchBuilds, boolean pinOverflows) {
    public Options {
      Preconditions.checkArgument(
          maxSearchBuilds >= 1, "maxSearchBuilds must be >= 1, got %s", maxSearchBuilds);
    }

    /**
     * Default build cap of the search itself (issue 15): with TensorRT a build takes seconds to a
     * minute, and an uncapped ddmin over hundreds of nodes ran for 40 minutes on a real CNN.
     */
    public static final int DEFAULT_MAX_SEARCH_BUILDS = 60;

    /** {@link #DEFAULT_MAX_SEARCH_BUILDS} builds; overflowing nodes pinned up front. */
    public static Options defaults() {
      return new Options(DEFAULT_MAX_SEARCH_BUILDS, true);
    }

    /** No build budget; overflowing nodes pinned up front. */
    public static Options unlimited() {
      return new Options(Integer.MAX_VALUE, true);
    }

    public Options withMaxSearchBuilds(int n) {
      return new Options(n, pinOverflows);
    }

    public Options withPinOverflows(boolean pin) {
      return new Options(maxSearchBuilds, pin);
    }
  }

  /**
   * @param found whether a passing plan exists (false when even all float nodes in FP32 fail)
   * @param oneMinimal whether removing any single pinned node was shown to fail (false when the
   *     build budget ran out first: the plan then passes but may pin more than needed)
   * @param plan the base plan plus the pinned nodes
   * @param fp32Nodes pinned nodes found by the search, topological order (overflow nodes included)
   * @param fp16Fraction fraction of float nodes still FP16 under {@code plan}
   * @param outputErrors graph output comparisons under {@code plan}
   * @param steps tested sets in order
   * @param searchBuilds candidate builds of the search itself
   * @param seedBuilds candidate builds of the amplification analysis that seeded it
   * @param overflowNodes the part of {@code fp32Nodes} pinned up front because FP16 overflows in
   *     them on their own, topological order; 1-minimality is about the other nodes
   * @param stopReason why the search stopped, in words for reports (issue 15)
   */
  public record Result(
      boolean found,
      boolean oneMinimal,
      PrecisionPlan plan,
      ImmutableList<String> fp32Nodes,
      double fp16Fraction,
      ImmutableMap<String, TensorComparison> outputErrors,
      ImmutableList<Step> steps,
      int searchBuilds,
      int seedBuilds,
      ImmutableList<String> overflowNodes,
      String stopReason) {

    /** A result with the stop reason its flags imply. */
    public Result(
        boolean found,
        boolean oneMinimal,
        PrecisionPlan plan,
        ImmutableList<String> fp32Nodes,
        double fp16Fraction,
        ImmutableMap<String, TensorComparison> outputErrors,
        ImmutableList<Step> steps,
        int searchBuilds,
        int seedBuilds,
        ImmutableList<String> overflowNodes) {
      this(
          found,
          oneMinimal,
          plan,
          fp32Nodes,
          fp16Fraction,
          outputErrors,
          steps,
          searchBuilds,
          seedBuilds,
          overflowNodes,
          !found ? STOP_NO_PLAN : oneMinimal ? STOP_MINIMAL : capReached(0, ""));
    }

    /** A result with no node pinned for overflow. */
    public Result(
        boolean found,
        boolean oneMinimal,
        PrecisionPlan plan,
        ImmutableList<String> fp32Nodes,
        double fp16Fraction,
        ImmutableMap<String, TensorComparison> outputErrors,
        ImmutableList<Step> steps,
        int searchBuilds,
        int seedBuilds) {
      this(
          found,
          oneMinimal,
          plan,
          fp32Nodes,
          fp16Fraction,
          outputErrors,
          steps,
          searchBuilds,
          seedBuilds,
          ImmutableList.of());
    }

    public int totalBuilds() {
      return searchBuilds + seedBuilds;
    }

    public String planJson() {
      return plan.toJson();
    }

    public String trtexecFlags() {
      return plan.toTrtexecFlags();
    }

    /** Writes {@code plan.json} and {@code trtexec-flags.txt} into {@code dir}. */
    public void writeArtifacts(Path dir) throws IOException {
      Files.createDirectories(dir);
      plan.write(dir.resolve("plan.json"));
      SafeFiles.writeString(dir.resolve("trtexec-flags.txt"), trtexecFlags() + "\n");
    }

    /**
     * Writes {@code plan.json}, {@code trtexec-flags.txt} and {@code model-fp16.onnx}: {@code
     * model} rewritten to FP16 under the plan by onnx-surgery's {@link Fp16Conversion} (Casts at
     * the FP16/FP32 borders, for TensorRT strong typing). Returns the nodes the conversion kept
     * FP32 because they have no FP16 form.
     */
    public List<String> writeArtifacts(Path dir, ModelGraph model) throws IOException {
      writeArtifacts(dir);
      Fp16Conversion.Result c =
          Fp16Conversion.apply(
              OnnxModel.of(model.proto(), model.baseDir().orElse(null), model.name()), plan);
      c.model().save(dir.resolve("model-fp16.onnx"));
      return c.keptFp32NoFp16Form();
    }
  }

  /**
   * Seeds with a fresh amplification analysis on the same context, then searches without a build
   * budget.
   */
  public static Result run(BisectContext ctx) {
    return run(ctx, Integer.MAX_VALUE);
  }

  /**
   * Seeds with a fresh amplification analysis, then searches with at most {@code maxSearchBuilds}
   * candidate builds for the search itself; when they run out the smallest passing set found so far
   * is returned with {@code oneMinimal = false}.
   */
  public static Result run(BisectContext ctx, int maxSearchBuilds) {
    return run(ctx, Options.unlimited().withMaxSearchBuilds(maxSearchBuilds));
  }

  /** Seeds with a fresh amplification analysis, then searches with {@code options}. */
  public static Result run(BisectContext ctx, Options options) {
    int before = ctx.prober().candidateBuilds();
    Amplification.Result seed = Amplification.analyze(ctx);
    int seedBuilds = ctx.prober().candidateBuilds() - before;
    return run(ctx, seed, seedBuilds, options);
  }

  /** Searches with a given amplification ranking (default options but the build budget). */
  public static Result run(
      BisectContext ctx, Amplification.Result seed, int seedBuilds, int maxSearchBuilds) {
    return run(ctx, seed, seedBuilds, Options.unlimited().withMaxSearchBuilds(maxSearchBuilds));
  }

  /** Searches with a given amplification ranking. */
  public static Result run(
      BisectContext ctx, Amplification.Result seed, int seedBuilds, Options options) {
    return search(ctx, seed, seedBuilds, options, true);
  }

  /** Stop reason of {@link #smallestPassingPrefix}'s plan. */
  static final String STOP_PREFIX =
      "the smallest passing prefix of the amplification ranking (not minimised)";

  /**
   * The search's seed alone: a fresh amplification analysis, then the smallest passing prefix of
   * its ranked units, without ddmin ({@code oneMinimal} false unless nothing needs pinning). The
   * calibrated retry of {@link EmulationFirst} shrinks that prefix its own way: ddmin spent its
   * 400-probe cap on MiniLM at a bound the emulation does not pass as it is.
   */
  static Result smallestPassingPrefix(BisectContext ctx, Options options) {
    int before = ctx.prober().candidateBuilds();
    Amplification.Result seed = Amplification.analyze(ctx);
    return search(ctx, seed, ctx.prober().candidateBuilds() - before, options, false);
  }

  private static Result search(
      BisectContext ctx,
      Amplification.Result seed,
      int seedBuilds,
      Options options,
      boolean minimise) {
    ModelGraph g = ctx.model();
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    ctx.listener().phase("precision");
    List<Step> steps = new ArrayList<>();
    List<String> overflow = options.pinOverflows() ? overflowNodes(g, seed) : List.of();
    if (!overflow.isEmpty()) {
      LOG.info(
          "precision: {} nodes overflow FP16 on their own and are pinned up front: {}",
          overflow.size(),
          overflow);
    }
    Tester test = new Tester(ctx, steps, options.maxSearchBuilds(), overflow);

    if (test.passesUnbudgeted(List.of(), overflow.isEmpty() ? "baseline" : "overflow")) {
      return result(
          ctx,
          true,
          true,
          List.of(),
          test,
          steps,
          p.candidateBuilds() - before,
          seedBuilds,
          overflow.isEmpty()
              ? "the plan passes as it is: nothing to pin"
              : "pinning the " + overflow.size() + " nodes that overflow on their own is enough");
    }
    List<List<String>> units = units(g, seed);
    Set<String> fixed = new HashSet<>(overflow);
    units.forEach(u -> u.removeIf(fixed::contains));
    // TensorRT folds these away at parse time: pinning them would change nothing (issue 15)
    units.forEach(u -> u.removeIf(g::isFoldedByTensorRt));
    units.removeIf(List::isEmpty);
    if (units.isEmpty()) {
      LOG.warn(
          "precision: the model fails with its overflowing nodes in FP32 and has no other float node to pin");
      return result(
          ctx,
          false,
          false,
          List.of(),
          test,
          steps,
          p.candidateBuilds() - before,
          seedBuilds,
          "cannot progress: the model fails with its overflowing nodes in FP32 and has no other"
              + " float node to pin");
    }
    // Galloping over prefixes of ranked units, then binary search between fail and pass sizes.
    int lo = 0;
    int hi = -1;
    // The growth phase must finish to have any passing set, so it ignores the budget. With
    // parallelism k, k doubling sizes are tested in one round (issue 18).
    for (int size = 1; hi < 0 && lo < units.size(); ) {
      List<Integer> sizes = new ArrayList<>();
      for (int s = size; sizes.size() < p.parallelism(); s = Math.min(units.size(), s * 2)) {
        sizes.add(s);
        if (s == units.size()) {
          break;
        }
      }
      List<List<String>> sets = new ArrayList<>();
      sizes.forEach(s -> sets.add(prefix(units, s)));
      int first = test.firstPassingUnbudgeted(sets, "seed");
      if (first >= 0) {
        hi = sizes.get(first);
        lo = first > 0 ? sizes.get(first - 1) : lo;
      } else {
        lo = sizes.get(sizes.size() - 1);
        size = Math.min(units.size(), lo * 2);
      }
    }
    if (hi < 0) {
      LOG.warn("precision: the model fails even with every float node in FP32; no plan can fix it");
      return result(
          ctx,
          false,
          false,
          prefix(units, units.size()),
          test,
          steps,
          p.candidateBuilds() - before,
          seedBuilds,
          STOP_NO_PLAN);
    }
    boolean complete = true;
    List<String> minimal;
    try {
      while (hi - lo > 1) {
        // k-ary with parallelism k (binary for k = 1): the smallest passing size of a round wins.
        List<Integer> sizes = FirstDivergence.spreadInside(lo, hi, p.parallelism());
        List<List<String>> sets = new ArrayList<>();
        sizes.forEach(size -> sets.add(prefix(units, size)));
        int first = test.firstPassing(sets, "seed");
        if (first >= 0) {
          hi = sizes.get(first);
          lo = first > 0 ? sizes.get(first - 1) : lo;
        } else {
          lo = sizes.get(sizes.size() - 1);
        }
      }
    } catch (BudgetExhausted e) {
      complete = false;
    }
    if (!minimise) {
      return result(
          ctx,
          true,
          false,
          prefix(units, hi),
          test,
          steps,
          p.candidateBuilds() - before,
          seedBuilds,
          complete ? STOP_PREFIX : capReached(options.maxSearchBuilds(), ""));
    }
    Ddmin dd = new Ddmin(prefix(units, hi));
    if (complete) {
      try {
        dd.run(test);
      } catch (BudgetExhausted e) {
        complete = false;
      }
    }
    minimal = new ArrayList<>(dd.current);
    minimal.sort(Comparator.comparingInt(g::topoPosition));
    if (!complete) {
      LOG.warn(
          "precision: build budget of {} ran out; the plan passes but is not shown 1-minimal",
          options.maxSearchBuilds());
    }
    return result(
        ctx,
        true,
        complete,
        minimal,
        test,
        steps,
        p.candidateBuilds() - before,
        seedBuilds,
        complete ? STOP_MINIMAL : capReached(options.maxSearchBuilds(), ""));
  }

  // ---- issue 19: shrinking a given FP32 set (precision --plan-from) ----

  /**
   * Starts from a given FP32 set ({@code start}, e.g. what a converted model keeps in FP32) instead
   * of an amplification seed and shrinks it with ddmin: the result is a 1-minimal subset that still
   * passes (within the build budget). When {@code start} itself fails, the ordinary search runs
   * instead (seeded by amplification). Nodes of {@code start} the model lacks are ignored.
   */
  public static Result shrink(
      BisectContext ctx, java.util.Collection<String> start, Options options) {
    ctx.listener().phase("precision");
    Optional<Result> shrunk = shrinkIfPasses(ctx, start, options, List.of(), "given");
    if (shrunk.isPresent()) {
      return shrunk.get();
    }
    LOG.warn("precision: the given FP32 set fails; searching from scratch");
    return run(ctx, options);
  }

  /**
   * {@link #shrink}'s ddmin from {@code start} with {@code always} kept pinned and out of the
   * search (nodes that overflow on their own); empty, after one build, when {@code start} fails.
   */
  static Optional<Result> shrinkIfPasses(
      BisectContext ctx,
      java.util.Collection<String> start,
      Options options,
      List<String> always,
      String phase) {
    ModelGraph g = ctx.model();
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    List<Step> steps = new ArrayList<>();
    Tester test = new Tester(ctx, steps, options.maxSearchBuilds(), always);
    List<String> set = shrinkable(g, start, always);
    if (!test.passesUnbudgeted(set, phase)) {
      return Optional.empty();
    }
    Ddmin dd = new Ddmin(set);
    boolean complete = true;
    try {
      dd.run(test);
    } catch (BudgetExhausted e) {
      complete = false;
    }
    return Optional.of(
        shrunk(
            ctx,
            complete,
            dd.current,
            test,
            steps,
            p.candidateBuilds() - before,
            capReached(options.maxSearchBuilds(), " while shrinking the given plan")));
  }

  /**
   * The nodes of {@code start} a shrink may unpin: the model's, not {@code always}, topological.
   */
  static List<String> shrinkable(
      ModelGraph g, java.util.Collection<String> start, List<String> always) {
    List<String> set = new ArrayList<>(new LinkedHashSet<>(start));
    set.removeIf(n -> !g.hasNode(n) || always.contains(n));
    set.sort(Comparator.comparingInt(g::topoPosition));
    return set;
  }

  /**
   * A shrink's result: {@code kept} (in topological order), 1-minimal when {@code complete}, else
   * cut by the build cap ({@code capped} says so).
   */
  static Result shrunk(
      BisectContext ctx,
      boolean complete,
      List<String> kept,
      Tester test,
      List<Step> steps,
      int builds,
      String capped) {
    List<String> sorted = new ArrayList<>(kept);
    sorted.sort(Comparator.comparingInt(ctx.model()::topoPosition));
    return result(
        ctx, true, complete, sorted, test, steps, builds, 0, complete ? STOP_MINIMAL : capped);
  }

  /**
   * Stop reason of a search cut by its build cap ({@code cap}, or unknown when not positive) while
   * doing {@code what} (empty, or a phrase starting with a space): the best passing plan is kept.
   */
  static String capReached(int cap, String what) {
    return "build cap"
        + (cap > 0 && cap < Integer.MAX_VALUE ? " of " + cap : "")
        + " reached"
        + what
        + ": the best passing plan so far is kept (not shown 1-minimal; raise --max-builds to go"
        + " on)";
  }

  /** Thrown by a budgeted test when the build budget is spent. */
  static final class BudgetExhausted extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  /**
   * ddmin for the smallest passing subset; {@link #current} always passes, and after {@link #run}
   * returns it is 1-minimal.
   */
  static final class Ddmin {
    List<String> current;

    Ddmin(List<String> start) {
      current = new ArrayList<>(start);
    }

    void run(Tester test) {
      current = ddmin(current, test, this);
    }
  }

  private static List<String> ddmin(List<String> start, Tester test, Ddmin state) {
    List<String> c = new ArrayList<>(start);
    int n = 2;
    // Once every part of a partition failed alone, the needed nodes are spread over several parts,
    // and removing parts that are not needed keeps them so: later subsets would fail too, so only
    // complements are tested from then on (at n = 2 the halves are both). The planted TimeSformer's
    // outputs-only search (6 needed nodes in LayerNorms of 3 blocks, 144 to shrink) spent most of
    // its builds on such subsets.
    boolean spread = false;
    while (true) {
      if (n >= c.size()) {
        // single nodes: ddmin would test each alone and then each removal, starting over after
        // every removal; removals alone, k a round, settle it with about one build per node
        state.current = c;
        DropEach.run(test, c);
        return c;
      }
      List<List<String>> parts = EvenSplit.parts(c, n);
      boolean reduced = false;
      // Subsets (then complements) are independent tests: up to k of them in one round.
      if (!spread || n == 2) {
        int part = test.firstPassing(parts, "minimise");
        if (part >= 0) {
          c = new ArrayList<>(parts.get(part));
          state.current = c;
          n = 2;
          reduced = true;
        } else {
          spread = true;
        }
      }
      if (!reduced && n > 2) {
        // One sweep over the parts: each part's complement against the plan as it stands. A part
        // whose complement failed stays, and is not tried again after a later removal: pinning
        // fewer nodes does not pass where pinning more failed (DropEach still checks every single
        // node at the end). The parts left are each needed at this granularity: split them finer.
        List<List<String>> kept = new ArrayList<>(parts);
        int i = 0;
        while (i < kept.size() && kept.size() > 1) {
          List<List<String>> comps = new ArrayList<>();
          for (int j = i; j < Math.min(kept.size(), i + test.parallelism()); j++) {
            comps.add(without(c, kept.get(j)));
          }
          int comp = test.firstPassing(comps, "minimise");
          if (comp >= 0) {
            c = comps.get(comp);
            state.current = c;
            kept.remove(i + comp);
            i += comp;
            reduced = true;
          } else {
            i += comps.size();
          }
        }
        if (reduced) {
          n = Math.min(c.size(), Math.max(2, 2 * kept.size()));
        }
      }
      if (!reduced) {
        n = Math.min(c.size(), 2 * n);
      }
    }
  }

  /** {@code c} without the nodes of {@code part}, in order. */
  private static List<String> without(List<String> c, List<String> part) {
    Set<String> drop = new HashSet<>(part); // a set: removeAll on a list is |c| x |part|
    List<String> out = new ArrayList<>(c);
    out.removeIf(drop::contains);
    return out;
  }

  /**
   * Ranked units: each node in ranking order, or its whole motif the first time one of its nodes
   * comes.
   */
  static List<List<String>> units(ModelGraph g, Amplification.Result seed) {
    Map<String, Motifs.Motif> motifOf = new HashMap<>();
    for (Amplification.MotifAmplification m : seed.motifs()) {
      m.motif().nodes().forEach(n -> motifOf.put(n, m.motif()));
    }
    List<List<String>> units = new ArrayList<>();
    Set<String> used = new HashSet<>();
    for (String n : seed.ranking()) {
      if (used.contains(n)) {
        continue;
      }
      Motifs.Motif m = motifOf.get(n);
      List<String> unit = new ArrayList<>(m == null ? List.of(n) : m.nodes());
      unit.removeIf(used::contains);
      used.addAll(unit);
      units.add(unit);
    }
    return units;
  }

  /**
   * Float nodes whose local FP16 error is infinite (inf or NaN where the FP32 reference is finite)
   * and whose outputs are not constants, topological order.
   */
  static List<String> overflowNodes(ModelGraph g, Amplification.Result seed) {
    List<String> out = new ArrayList<>();
    for (Amplification.NodeAmplification n : seed.nodes()) {
      if (n.method() != Amplification.Method.NOT_MEASURED
          && Double.isInfinite(n.localError())
          && !g.isFoldedByTensorRt(n.node())
          && g.node(n.node()).getOutputList().stream()
              .noneMatch(o -> !o.isEmpty() && g.isConstant(o))) {
        out.add(n.node());
      }
    }
    out.sort(Comparator.comparingInt(g::topoPosition));
    return out;
  }

  private static List<String> prefix(List<List<String>> units, int size) {
    Set<String> s = new LinkedHashSet<>();
    units.subList(0, size).forEach(s::addAll);
    return new ArrayList<>(s);
  }

  static Result result(
      BisectContext ctx,
      boolean found,
      boolean oneMinimal,
      List<String> searched,
      Tester test,
      List<Step> steps,
      int builds,
      int seedBuilds,
      String stopReason) {
    ModelGraph g = ctx.model();
    List<String> pinned = new ArrayList<>(test.always);
    searched.stream().filter(n -> !test.always.contains(n)).forEach(pinned::add);
    pinned.sort(Comparator.comparingInt(g::topoPosition));
    PrecisionPlan plan = ctx.basePlan().pin(pinned);
    ProbeResult r = test.probe(searched);
    List<String> floatNodes = g.floatNodes();
    long fp16 = floatNodes.stream().filter(plan::isFp16).count();
    double fraction = floatNodes.isEmpty() ? 1 : (double) fp16 / floatNodes.size();
    LOG.info(
        "precision: {} nodes pinned to FP32, {}% of float nodes FP16, {} builds (+{} seeding)",
        pinned.size(), String.format("%.1f", 100 * fraction), builds, seedBuilds);
    return new Result(
        found,
        oneMinimal,
        plan,
        ImmutableList.copyOf(pinned),
        fraction,
        r.tensors(),
        ImmutableList.copyOf(steps),
        builds,
        seedBuilds,
        ImmutableList.copyOf(test.always),
        stopReason);
  }

  /**
   * Runs the whole model with a set pinned (plus the {@code always} set), observing the float graph
   * outputs.
   */
  static final class Tester {
    private final BisectContext ctx;
    private final List<Step> steps;
    private final List<String> outputs;
    private final int budget;
    private final int start;
    final List<String> always;

    Tester(BisectContext ctx, List<Step> steps, int budget, List<String> always) {
      this.ctx = ctx;
      this.steps = steps;
      this.budget = budget;
      this.always = List.copyOf(always);
      this.start = ctx.prober().candidateBuilds();
      this.outputs = ctx.model().graphOutputs().stream().filter(ctx.model()::isFloat).toList();
    }

    ProbeResult probe(List<String> pinned) {
      return ctx.prober().probe(spec(pinned));
    }

    /** Probes the prober builds at once. */
    int parallelism() {
      return ctx.prober().parallelism();
    }

    /**
     * Tests a set, throwing {@link BudgetExhausted} when it would need a build beyond the budget.
     */
    boolean passes(List<String> pinned, String phase) {
      if (ctx.prober().candidateBuilds() - start >= budget
          && !ctx.prober().isDecided(spec(pinned))) {
        throw new BudgetExhausted();
      }
      return passesUnbudgeted(pinned, phase);
    }

    /**
     * The index of the first of {@code sets} that passes, or -1; tests them in rounds of the
     * prober's parallelism (one by one for 1), stopping at the first round with a pass. Throws
     * {@link BudgetExhausted} before a round that would need a build beyond the budget; a round is
     * cut to the builds left.
     */
    int firstPassing(List<List<String>> sets, String phase) {
      return firstPassing(sets, phase, budget);
    }

    /**
     * Tests the first of {@code sets} in one round (up to the prober's parallelism, cut to the
     * builds left; decided ones cost none) and says for each tested set whether it passed. Throws
     * {@link BudgetExhausted} when not even one can be tested.
     */
    List<Boolean> round(List<List<String>> sets, String phase) {
      List<List<String>> round = nextRound(sets, budget);
      List<ProbeResult> results = ctx.prober().probeAll(round.stream().map(this::spec).toList());
      List<Boolean> passed = new ArrayList<>();
      for (int j = 0; j < round.size(); j++) {
        boolean pass = results.get(j).passes();
        steps.add(new Step(phase, always.size() + round.get(j).size(), pass));
        passed.add(pass);
      }
      return passed;
    }

    /**
     * The first of {@code sets} one round builds: up to the prober's parallelism, cut where the
     * undecided ones would need more than the builds left of {@code budget} (decided ones cost
     * none). Throws {@link BudgetExhausted} when not even one fits.
     */
    private List<List<String>> nextRound(List<List<String>> sets, int budget) {
      Prober p = ctx.prober();
      int left =
          budget == Integer.MAX_VALUE ? Integer.MAX_VALUE : budget - (p.candidateBuilds() - start);
      List<List<String>> round = new ArrayList<>();
      int undecided = 0;
      for (List<String> s : sets) {
        if (round.size() >= p.parallelism()) {
          break;
        }
        boolean known = p.isDecided(spec(s));
        if (!known && undecided >= left) {
          break;
        }
        undecided += known ? 0 : 1;
        round.add(s);
      }
      if (round.isEmpty()) {
        throw new BudgetExhausted();
      }
      return round;
    }

    /** {@link #firstPassing} without a build budget (the growth phase). */
    int firstPassingUnbudgeted(List<List<String>> sets, String phase) {
      return firstPassing(sets, phase, Integer.MAX_VALUE);
    }

    private int firstPassing(List<List<String>> sets, String phase, int budget) {
      int i = 0;
      while (i < sets.size()) {
        List<List<String>> round = nextRound(sets.subList(i, sets.size()), budget);
        List<ProbeResult> results = ctx.prober().probeAll(round.stream().map(this::spec).toList());
        for (int j = 0; j < round.size(); j++) {
          boolean pass = results.get(j).passes();
          steps.add(new Step(phase, always.size() + round.get(j).size(), pass));
          if (pass) {
            return i + j; // later sets of this round were built but are not steps of the search
          }
        }
        i += round.size();
      }
      return -1;
    }

    private ProbeSpec spec(List<String> pinned) {
      List<String> all = new ArrayList<>(always);
      all.addAll(pinned);
      return ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan().pin(all), outputs);
    }

    boolean passesUnbudgeted(List<String> pinned, String phase) {
      boolean pass = probe(pinned).passes();
      steps.add(new Step(phase, always.size() + pinned.size(), pass));
      return pass;
    }
  }
}
