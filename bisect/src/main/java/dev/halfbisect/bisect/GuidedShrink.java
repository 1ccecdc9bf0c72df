package dev.halfbisect.bisect;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The candidate's shrink of a passing plan, guided by the emulation (issue 18's calibrated retry).
 * A plan the emulation found at a stricter bound pins more than the candidate needs. The emulation
 * measures what each pinned node is worth: the outputs' error with that node alone unpinned (one
 * emulation probe per node, side by side). The candidate drops the least useful nodes in bulk (a
 * k-ary search for the longest run of them it can drop at once, about log2 n builds); the emulation
 * ranks what is left again (worth changes as others go: rounding errors add and cancel) and the
 * candidate drops again, until a ranking drops nothing. Last, the candidate tries each node left
 * once more, least useful first, until none can go: 1-minimal on the candidate.
 *
 * <p>Emulation first uses it three ways: the emulation shrinks the smallest passing prefix of its
 * ranking on itself (emulation and candidate the same context, one ranking: {@link
 * EmulationFirst#emulationPlan}); the candidate shrinks the plan the emulation found at the ratio's
 * bound, and, when it fails that one, the plan found with the margin. Alone on a 77-node stricter
 * plan of MiniLM (a CPU rehearsal, bench's CalibratedRetryHarness) the candidate's shrink stopped
 * at the cap with 21 nodes: each round drops few nodes when the plan pins far more than needed
 * (docs/PERFORMANCE.md).
 */
final class GuidedShrink {
  private GuidedShrink() {}

  /**
   * Shrinks {@code plan} (with {@code always} pinned and out of the search) on {@code candidate};
   * empty, after one build, when the candidate fails {@code plan}. The result's builds are the
   * candidate's (at most {@code budget} after that first one; the cap a report names is {@code
   * options}'); the emulation's probes, at most about {@code emulationBudget} for the rankings, are
   * counted by {@code emulation}'s prober. {@code passed} runs once the candidate has passed {@code
   * plan}, before the shrink (emulation first then stops the search it began in case the candidate
   * failed).
   */
  static Optional<PrecisionSearch.Result> run(
      BisectContext emulation,
      BisectContext candidate,
      Collection<String> plan,
      PrecisionSearch.Options options,
      int budget,
      int emulationBudget,
      List<String> always,
      String phase,
      Runnable passed) {
    ModelGraph g = candidate.model();
    Prober p = candidate.prober();
    int before = p.candidateBuilds();
    List<PrecisionSearch.Step> steps = new ArrayList<>();
    PrecisionSearch.Tester test = new PrecisionSearch.Tester(candidate, steps, budget, always);
    List<String> set = PrecisionSearch.shrinkable(g, plan, always);
    if (!test.passesUnbudgeted(set, phase)) {
      return Optional.empty();
    }
    passed.run();
    Prober e = emulation.prober();
    int emulationStart = e.candidateBuilds();
    List<String> current = new ArrayList<>(set);
    boolean complete = true;
    try {
      // drop the least useful run, re-rank what is left (the nodes' worth changes as others go:
      // rounding errors add and cancel), until a ranking drops nothing or the emulation's budget
      // for the ranking is spent
      int dropped = 1;
      while (dropped > 0
          && current.size() > 1
          && e.candidateBuilds() - emulationStart + current.size() <= emulationBudget) {
        List<String> order = leastUsefulFirst(emulation, current, always);
        dropped = longestDroppablePrefix(test, order);
        current = new ArrayList<>(order.subList(dropped, order.size()));
      }
      DropEach.run(test, current);
    } catch (PrecisionSearch.BudgetExhausted ex) {
      complete = false;
    }
    return Optional.of(
        PrecisionSearch.shrunk(
            candidate,
            complete,
            current,
            test,
            steps,
            p.candidateBuilds() - before,
            PrecisionSearch.capReached(
                options.maxSearchBuilds(),
                " while shrinking a plan the emulation found at a stricter bound")));
  }

  /**
   * {@code set} ordered by the emulation's worst output error with each node alone unpinned, least
   * first (ties and failed probes: topological order, failures last).
   */
  static List<String> leastUsefulFirst(
      BisectContext emulation, List<String> set, List<String> always) {
    List<String> outputs =
        emulation.model().graphOutputs().stream().filter(emulation.model()::isFloat).toList();
    List<ProbeSpec> specs = new ArrayList<>();
    for (String n : set) {
      List<String> pinned = new ArrayList<>(always);
      set.stream().filter(x -> !x.equals(n)).forEach(pinned::add);
      specs.add(
          ProbeSpec.full(ProbeSpec.Side.CANDIDATE, emulation.basePlan().pin(pinned), outputs));
    }
    List<ProbeResult> results = emulation.prober().probeAll(specs);
    Map<String, Double> error = new HashMap<>();
    for (int i = 0; i < set.size(); i++) {
      error.put(set.get(i), worstError(results.get(i)));
    }
    List<String> order = new ArrayList<>(set);
    order.sort(
        Comparator.comparingDouble((String n) -> error.get(n))
            .thenComparingInt(emulation.model()::topoPosition));
    return order;
  }

  private static double worstError(ProbeResult r) {
    if (r.status() != ProbeResult.Status.OK || r.tensors().isEmpty()) {
      return Double.POSITIVE_INFINITY;
    }
    double worst = 0;
    for (TensorComparison t : r.tensors().values()) {
      double e = t.normalizedError();
      worst = Math.max(worst, Double.isNaN(e) ? Double.POSITIVE_INFINITY : e);
    }
    return worst;
  }

  /**
   * The largest k such that the candidate passes with {@code order}'s first k nodes unpinned, by a
   * k-ary search (the prober's parallelism per round) that takes passing to fall off with k; 0 when
   * none can go. Dropping all of them is tried too (the candidate may need only {@code always}).
   */
  static int longestDroppablePrefix(PrecisionSearch.Tester test, List<String> order) {
    int lo = 0; // passes (the plan itself)
    int hi = order.size() + 1; // fails, or beyond the end
    while (hi - lo > 1) {
      int m = Math.min(test.parallelism(), hi - lo - 1);
      List<Integer> ks = new ArrayList<>();
      for (int j = m; j >= 1; j--) {
        int k = lo + (int) Math.round((double) j * (hi - lo) / (m + 1));
        k = Math.max(lo + 1, Math.min(hi - 1, k));
        if (!ks.contains(k)) {
          ks.add(k); // largest first: the first passing set is the longest droppable run tested
        }
      }
      List<List<String>> sets = new ArrayList<>();
      for (int k : ks) {
        sets.add(order.subList(k, order.size()));
      }
      int first = test.firstPassing(sets, "shrink");
      if (first < 0) {
        hi = ks.get(ks.size() - 1);
      } else {
        lo = ks.get(first);
        if (first > 0) {
          hi = ks.get(first - 1);
        }
      }
    }
    return lo;
  }
}
