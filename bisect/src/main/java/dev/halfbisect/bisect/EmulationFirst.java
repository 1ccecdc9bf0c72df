package dev.halfbisect.bisect;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emulation first, the candidate to confirm (issue 18). A TensorRT build costs seconds to a minute,
 * an FP16-emulation probe on ONNX Runtime far less; so the search runs on an emulation context and
 * the candidate context only checks what it suggests.
 *
 * <ul>
 *   <li>{@link #precision}: the precision search on the emulation; on the candidate, its plan is
 *       tested once and, when it passes, made 1-minimal there by removing one pinned node at a time
 *       (k removals tested a round with parallelism k; passes repeat until one removes nothing, so
 *       the plan is shown 1-minimal on the candidate). When the candidate fails the emulation's
 *       plan (TensorRT fuses or accumulates differently), the full search runs on the candidate.
 *   <li>{@link #bisect}: first divergence on the emulation; its tensor is the candidate search's
 *       first guess (the prefix at the guess and at the position before it in one round: a boundary
 *       when the candidate agrees, otherwise the k-ary search goes on from what the two probes
 *       showed).
 * </ul>
 *
 * Both contexts must share the model, samples and tolerance; builds are reported per side.
 */
public final class EmulationFirst {
  private static final Logger LOG = LoggerFactory.getLogger(EmulationFirst.class);

  private EmulationFirst() {}

  /**
   * @param result the answer, 1-minimal on the candidate when {@code result.oneMinimal()}
   * @param emulationBuilds candidate-side builds the emulation context made
   * @param confirmed whether the candidate passed the emulation's plan (false: it was searched on
   *     the candidate)
   */
  public record Precision(PrecisionSearch.Result result, int emulationBuilds, boolean confirmed) {}

  /** First divergence found on the candidate, guided by the emulation's answer. */
  public record Bisect(FirstDivergence.Result result, int emulationBuilds, Optional<String> hint) {}

  /** The precision search on {@code emulation}, confirmed and minimised on {@code candidate}. */
  public static Precision precision(
      BisectContext emulation, BisectContext candidate, PrecisionSearch.Options options) {
    return precision(emulation, candidate, options, options);
  }

  /**
   * As {@link #precision(BisectContext, BisectContext, PrecisionSearch.Options)}, the emulation's
   * search under its own options: a build cap meant for TensorRT builds (seconds to a minute each)
   * would otherwise cut the emulation's search (a fraction of a second a probe) short and leave the
   * candidate a larger plan to minimise, one TensorRT build per pinned node.
   */
  public static Precision precision(
      BisectContext emulation,
      BisectContext candidate,
      PrecisionSearch.Options emulationOptions,
      PrecisionSearch.Options options) {
    PrecisionSearch.Result emu = PrecisionSearch.run(emulation, emulationOptions);
    int emuBuilds = emulation.prober().candidateBuilds();
    LOG.info(
        "precision (emulation first): emulation pins {} nodes in {} emulation builds; confirming on {}",
        emu.fp32Nodes().size(),
        emuBuilds,
        candidate.backends().candidateLabel());
    Optional<PrecisionSearch.Result> confirmed =
        emu.found() ? confirm(candidate, emu, options) : Optional.empty();
    if (confirmed.isPresent()) {
      return new Precision(confirmed.get(), emuBuilds, true);
    }
    LOG.info(
        "precision (emulation first): {} disagrees with the emulation's plan; searching on it",
        candidate.backends().candidateLabel());
    return new Precision(PrecisionSearch.run(candidate, options), emuBuilds, false);
  }

  /**
   * Tests {@code emu}'s plan on {@code ctx}'s candidate; when it passes, removes pinned nodes the
   * candidate does not need until none can go. Empty when the candidate fails the plan.
   */
  static Optional<PrecisionSearch.Result> confirm(
      BisectContext ctx, PrecisionSearch.Result emu, PrecisionSearch.Options options) {
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    ctx.listener().phase("confirm");
    List<PrecisionSearch.Step> steps = new ArrayList<>();
    List<String> always = options.pinOverflows() ? emu.overflowNodes() : List.of();
    PrecisionSearch.Tester test =
        new PrecisionSearch.Tester(ctx, steps, options.maxSearchBuilds(), always);
    List<String> set = new ArrayList<>(emu.fp32Nodes());
    set.removeAll(always);
    if (!test.passesUnbudgeted(set, "confirm")) {
      return Optional.empty();
    }
    List<String> current = new ArrayList<>(set);
    boolean complete = true;
    try {
      boolean removed = true;
      while (removed) {
        removed = false;
        int from = 0;
        while (from < current.size()) {
          List<List<String>> without = new ArrayList<>();
          for (int i = from; i < current.size(); i++) {
            List<String> w = new ArrayList<>(current);
            w.remove(i);
            without.add(w);
          }
          int first = test.firstPassing(without, "minimise");
          if (first < 0) {
            break;
          }
          current = without.get(first);
          from += first;
          removed = true;
        }
      }
    } catch (PrecisionSearch.BudgetExhausted e) {
      complete = false;
    }
    current.sort(Comparator.comparingInt(ctx.model()::topoPosition));
    return Optional.of(
        PrecisionSearch.result(
            ctx,
            true,
            complete,
            current,
            test,
            steps,
            p.candidateBuilds() - before,
            0,
            complete
                ? PrecisionSearch.STOP_MINIMAL
                : PrecisionSearch.capReached(
                    0, " while refining the emulation's plan on the candidate")));
  }

  /** First divergence on {@code emulation}, then on {@code candidate} starting from its answer. */
  public static Bisect bisect(
      BisectContext emulation, BisectContext candidate, FirstDivergence.Refinement refinement) {
    FirstDivergence.Result emu = FirstDivergence.search(emulation, refinement);
    int emuBuilds = emulation.prober().candidateBuilds();
    Optional<String> hint = emu.divergence().map(FirstDivergence.Divergence::tensor);
    FirstDivergence.Result r = FirstDivergence.search(candidate, refinement, hint);
    return new Bisect(r, emuBuilds, hint);
  }
}
