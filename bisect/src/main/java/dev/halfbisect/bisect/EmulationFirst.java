package dev.halfbisect.bisect;

import dev.halfbisect.core.plan.PrecisionPlan;
import java.util.ArrayList;
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
 *   <li>{@link #precision}: the precision search on the emulation ({@link #emulationPlan}); on the
 *       candidate, its plan is tested once and, when it passes, made 1-minimal there by removing
 *       one pinned node at a time ({@link DropEach}: k removals tested a round with parallelism k;
 *       passes repeat until one removes nothing, so the plan is shown 1-minimal on the candidate).
 *       When the candidate fails the emulation's plan (TensorRT fuses or accumulates differently),
 *       the full search runs on the candidate.
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
   * @param calibration when the plan came from a stricter emulation: the candidate's output error
   *     over the emulation's, the larger of the ratios with nothing pinned and under the plan the
   *     candidate failed ({@link #calibration}); NaN otherwise
   * @param nominal when calibrated: whether the candidate passed the plan the emulation found at
   *     the bound divided by the ratio alone (else the one found with {@link #CALIBRATION_MARGIN}
   *     on top)
   */
  public record Precision(
      PrecisionSearch.Result result,
      int emulationBuilds,
      boolean confirmed,
      double calibration,
      boolean nominal) {
    /** Not calibrated: the emulation's plan at the search's own bound. */
    public Precision(PrecisionSearch.Result result, int emulationBuilds, boolean confirmed) {
      this(result, emulationBuilds, confirmed, Double.NaN, false);
    }

    /**
     * When calibrated: how many times stricter than the search's the bound was at which the
     * emulation found the plan the candidate passed ({@code calibration}, or {@code calibration}
     * times {@link #CALIBRATION_MARGIN}); NaN otherwise.
     */
    public double factor() {
      return nominal ? calibration : calibration * CALIBRATION_MARGIN;
    }

    /** Whether the confirmed plan came from the stricter emulation. */
    public boolean calibrated() {
      return !Double.isNaN(calibration);
    }
  }

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
    return precision(emulation, candidate, emulationOptions, options, factor -> Optional.empty());
  }

  /**
   * A stricter emulation: a fresh context of the emulation whose error bound is the search's
   * divided by {@code factor}; empty when the tolerance cannot be scaled (a Polygraphy-style
   * atol/rtol check, per-tensor bounds).
   */
  @FunctionalInterface
  public interface Stricter {
    Optional<BisectContext> by(double factor);
  }

  /**
   * Margin over the measured error ratio for the retry's second try: when the candidate fails the
   * plan found at the bound over the ratio (measured on two plans, neither of them the new one),
   * the emulation aims a little below that.
   */
  public static final double CALIBRATION_MARGIN = 1.25;

  /**
   * Emulation probes the candidate's guided shrink of a stricter plan may spend on ranking its
   * nodes ({@link GuidedShrink}), apart from the emulation's search cap (most are decided already:
   * the emulation's own shrink to 1-minimal probed each node alone unpinned).
   */
  static final int RANKING_PROBES = 400;

  /**
   * As {@link #precision(BisectContext, BisectContext, PrecisionSearch.Options,
   * PrecisionSearch.Options)}, with one more try before the candidate searches on its own: when the
   * candidate fails the emulation's plan and its outputs err more than the emulation's (TensorRT's
   * fused kernels round differently; the ratio is {@link #calibration}'s, with nothing pinned or
   * under that plan, whichever is larger), the emulation searches again with its bound divided by
   * that ratio, and the candidate confirms that plan and shrinks it, guided by the emulation's
   * ranking of its nodes ({@link GuidedShrink}). When the candidate fails it (the ratio was
   * measured on other plans than this one), the emulation searches once more with a {@link
   * #CALIBRATION_MARGIN} on top, and the candidate confirms and shrinks that plan with what is left
   * of its cap. A wrong guess costs one candidate build; a right one saves the candidate a search
   * of its own.
   *
   * <p>The emulation's searches, at the bound and the stricter ones, are the seed's smallest
   * passing prefix, then the emulation's own guided shrink to 1-minimal ({@link #emulationPlan}),
   * not ddmin: at a bound the emulation does not pass as it is, ddmin spent two 400-probe caps on
   * MiniLM on the H200 and left a 68-node plan; at the bound itself, ddmin stopped at the 400-probe
   * cap with 48 nodes under {@code fp16-acc16-emulated} (H200, the fifth session of 2026-12-03),
   * and on the CPU rehearsal the guided shrink took that search from 575 emulation builds and 313 s
   * to 499 and 228 s.
   */
  public static Precision precision(
      BisectContext emulation,
      BisectContext candidate,
      PrecisionSearch.Options emulationOptions,
      PrecisionSearch.Options options,
      Stricter stricter) {
    return precision(
        emulation,
        emulationPlan(emulation, emulationOptions),
        candidate,
        emulationOptions,
        options,
        stricter);
  }

  /**
   * As {@link #precision(BisectContext, BisectContext, PrecisionSearch.Options,
   * PrecisionSearch.Options, Stricter)}, from the emulation's plan at the bound, {@code emu}, found
   * already by {@link #emulationPlan} on {@code emulation} (while the candidate built its all-FP16
   * engine).
   */
  public static Precision precision(
      BisectContext emulation,
      PrecisionSearch.Result emu,
      BisectContext candidate,
      PrecisionSearch.Options emulationOptions,
      PrecisionSearch.Options options,
      Stricter stricter) {
    int emuBuilds = emulation.prober().candidateBuilds();
    LOG.info(
        "precision (emulation first): emulation pins {} nodes in {} emulation builds; confirming on {}",
        emu.fp32Nodes().size(),
        emuBuilds,
        candidate.backends().candidateLabel());
    // while the candidate confirms the plan, the emulation searches the bound a retry would ask
    // for: the all-FP16 ratio is known already, the plan's ratio only once the candidate failed it
    double allFp16 = decidedOutputErrorRatio(emulation, candidate);
    StricterSearch ahead =
        allFp16 > 1 && Double.isFinite(allFp16)
            ? StricterSearch.start(allFp16, stricter, emulationOptions)
            : null;
    Optional<PrecisionSearch.Result> confirmed;
    try {
      confirmed = emu.found() ? confirm(candidate, emu, options) : Optional.empty();
    } catch (RuntimeException | Error e) {
      cancel(ahead, "the candidate could not confirm the plan");
      throw e;
    }
    if (confirmed.isPresent()) {
      emuBuilds += cancel(ahead, "the candidate passed the emulation's plan");
      return new Precision(confirmed.get(), emuBuilds, true);
    }
    double ratio = calibration(emulation, candidate, emu);
    if (ahead != null && !(ratio > 1 && ratio <= ahead.factor())) {
      // the plan's ratio is the larger: that search aimed too low
      emuBuilds += cancel(ahead, "the candidate errs more than that search allowed for");
      ahead = null;
    }
    if (ratio > 1 && Double.isFinite(ratio)) {
      int before = candidate.prober().candidateBuilds();
      // the search begun ahead, when kept, was at this very ratio (the all-FP16 one)
      Retry atRatio =
          retry(
              candidate,
              ratio,
              ratio,
              ahead,
              stricter,
              emulationOptions,
              options,
              0,
              ratio * CALIBRATION_MARGIN);
      emuBuilds += atRatio.emulationBuilds();
      if (atRatio.result().isPresent()) {
        return new Precision(atRatio.result().get(), emuBuilds, true, ratio, true);
      }
      if (atRatio.scaled()) {
        // the failed try counts against the candidate's cap
        int spent = candidate.prober().candidateBuilds() - before;
        Retry margin =
            retry(
                candidate,
                ratio,
                ratio * CALIBRATION_MARGIN,
                atRatio.next(),
                stricter,
                emulationOptions,
                options,
                spent,
                0);
        emuBuilds += margin.emulationBuilds();
        if (margin.result().isPresent()) {
          return new Precision(margin.result().get(), emuBuilds, true, ratio, false);
        }
        LOG.info(
            "precision (emulation first): {} fails the stricter emulation's plans too",
            candidate.backends().candidateLabel());
      } else {
        emuBuilds += cancel(atRatio.next(), "the tolerance cannot be made stricter");
      }
    }
    LOG.info(
        "precision (emulation first): {} disagrees with the emulation's plan; searching on it",
        candidate.backends().candidateLabel());
    return new Precision(PrecisionSearch.run(candidate, options), emuBuilds, false);
  }

  /** Cancels {@code search} (null: none) and returns the emulation builds it made. */
  private static int cancel(StricterSearch search, String why) {
    if (search == null) {
      return 0;
    }
    search.cancel(why);
    return search.builds();
  }

  /**
   * One try of the calibrated retry: {@code result} is the candidate's shrink of the plan the
   * emulation found at a {@code factor}x stricter bound (empty when the candidate fails it or the
   * emulation pins nothing there); {@code scaled} whether the tolerance could be made stricter at
   * all; {@code emulationBuilds} counts that emulation's probes; {@code next} the search at the
   * next bound, begun while the candidate confirmed this plan (null when none was begun or it was
   * stopped because the candidate passed).
   */
  private record Retry(
      Optional<PrecisionSearch.Result> result,
      boolean scaled,
      int emulationBuilds,
      StricterSearch next) {}

  /**
   * @param ahead the search at {@code factor} already begun (null: search now)
   * @param nextFactor the bound to search at while the candidate confirms this try's plan (0: none)
   */
  private static Retry retry(
      BisectContext candidate,
      double ratio,
      double factor,
      StricterSearch ahead,
      Stricter stricter,
      PrecisionSearch.Options emulationOptions,
      PrecisionSearch.Options options,
      int spent,
      double nextFactor) {
    BisectContext strict;
    PrecisionSearch.Result plan;
    if (ahead != null) {
      Optional<StricterSearch.Found> f = ahead.await();
      if (f.isEmpty()) {
        return new Retry(Optional.empty(), false, ahead.builds(), null);
      }
      strict = f.get().strict();
      plan = f.get().plan();
    } else {
      Optional<BisectContext> s = stricter.by(factor);
      if (s.isEmpty()) {
        return new Retry(Optional.empty(), false, 0, null);
      }
      strict = s.get();
      plan = emulationPlan(strict, emulationOptions);
    }
    LOG.info(
        "precision (emulation first): {} errs {}x the emulation (all-FP16 or under its plan); the"
            + " emulation at a {}x stricter bound pins {} nodes ({}); confirming on {}",
        candidate.backends().candidateLabel(),
        String.format(java.util.Locale.ROOT, "%.2f", ratio),
        String.format(java.util.Locale.ROOT, "%.2f", factor),
        plan.fp32Nodes().size(),
        plan.oneMinimal() ? "1-minimal" : plan.stopReason(),
        candidate.backends().candidateLabel());
    if (!plan.found() || plan.fp32Nodes().isEmpty()) {
      // nothing the emulation needs at that bound, or nothing passes there: no plan to try
      return new Retry(Optional.empty(), true, strict.prober().candidateBuilds(), null);
    }
    List<String> always = options.pinOverflows() ? plan.overflowNodes() : List.of();
    StricterSearch next =
        nextFactor > 0 ? StricterSearch.start(nextFactor, stricter, emulationOptions) : null;
    candidate.listener().phase("confirm");
    Optional<PrecisionSearch.Result> result;
    try {
      result =
          GuidedShrink.run(
              strict,
              candidate,
              plan.fp32Nodes(),
              options,
              Math.max(1, options.maxSearchBuilds() - spent),
              RANKING_PROBES,
              always,
              "confirm",
              () -> cancel(next, "the candidate passed the stricter plan"));
    } catch (RuntimeException | Error e) {
      cancel(next, "the candidate could not confirm the stricter plan");
      throw e;
    }
    int builds = strict.prober().candidateBuilds();
    // passed: the next search was stopped (its builds are final); failed: the next try counts them
    return result.isPresent()
        ? new Retry(result, true, builds + (next == null ? 0 : next.builds()), null)
        : new Retry(result, true, builds, next);
  }

  /**
   * The emulation's plan at {@code strict}'s bound: the seed's smallest passing prefix, shrunk to
   * 1-minimal by the emulation's own guided shrink with one ranking (each pinned node's worth
   * measured side by side, the longest run of the least useful dropped at once, then the rest one
   * at a time, least useful first). On the bisect module's 6-block transformer at 2.5x and 3x below
   * its all-FP16 error that took 287 and 381 probes, 4 at a time, where ddmin from the same prefix
   * took 416 and 423 (33 to 47 nodes either way); ranking again as nodes go took 274 and 899. A
   * ranking costs a probe per pinned node, so when the emulation's cap cannot pay for it twice
   * over, ddmin shrinks the prefix instead: it gains something with every probe.
   */
  public static PrecisionSearch.Result emulationPlan(
      BisectContext strict, PrecisionSearch.Options emulationOptions) {
    PrecisionSearch.Result prefix = PrecisionSearch.smallestPassingPrefix(strict, emulationOptions);
    if (!prefix.found() || prefix.oneMinimal()) {
      return prefix; // nothing passes, or nothing (beyond the overflowing nodes) needs pinning
    }
    List<String> always = emulationOptions.pinOverflows() ? prefix.overflowNodes() : List.of();
    strict.listener().phase("nominal");
    int left = Math.max(1, emulationOptions.maxSearchBuilds() - prefix.searchBuilds());
    int ranking = prefix.fp32Nodes().size() - always.size();
    Optional<PrecisionSearch.Result> shrunk =
        2 * ranking <= left
            ? GuidedShrink.run(
                strict,
                strict,
                prefix.fp32Nodes(),
                emulationOptions,
                left,
                ranking, // one ranking
                always,
                "nominal",
                () -> {})
            : PrecisionSearch.shrinkIfPasses(
                strict,
                prefix.fp32Nodes(),
                emulationOptions.withMaxSearchBuilds(left),
                always,
                "nominal");
    return shrunk.orElse(prefix);
  }

  /**
   * How much more the candidate errs than the emulation: the larger of the ratios of their worst
   * output errors with nothing pinned ({@link #outputErrorRatio}) and under the emulation's plan
   * the candidate just failed (both probes are decided already: no build). The plan's ratio is the
   * one that matters where it is known: on MiniLM, weak-typed TensorRT erred 1.35x the storage
   * emulation with nothing pinned and past 1.6x under the emulation's plans; on the planted
   * TimeSformer an overflow wrecks both all-FP16 outputs alike (normalized error 1.00 each), so the
   * all-FP16 ratio is about 1 and says nothing. NaN when neither ratio is known.
   */
  static double calibration(
      BisectContext emulation, BisectContext candidate, PrecisionSearch.Result emu) {
    double allFp16 = outputErrorRatio(emulation, candidate);
    double atPlan =
        emu.found() && !emu.fp32Nodes().isEmpty()
            ? planErrorRatio(emulation, candidate, emu.fp32Nodes())
            : Double.NaN;
    if (!Double.isFinite(atPlan)) {
      return allFp16;
    }
    return Double.isFinite(allFp16) ? Math.max(allFp16, atPlan) : atPlan;
  }

  /**
   * Worst normalized output error of the candidate over the emulation's, both with {@code plan}
   * pinned (on the base plan); NaN when either is unknown or the emulation's is 0.
   */
  static double planErrorRatio(
      BisectContext emulation, BisectContext candidate, List<String> plan) {
    double e = worstOutputError(emulation, emulation.basePlan().pin(plan));
    double c = worstOutputError(candidate, candidate.basePlan().pin(plan));
    return e > 0 && Double.isFinite(e) ? c / e : Double.NaN;
  }

  /**
   * Worst normalized error of the candidate's all-FP16 graph outputs over the emulation's (the
   * facade's preflight has measured both: no build then); NaN when either is unknown or the
   * emulation's is 0.
   */
  public static double outputErrorRatio(BisectContext emulation, BisectContext candidate) {
    return planErrorRatio(emulation, candidate, List.of());
  }

  /**
   * {@link #outputErrorRatio} when both all-FP16 probes are decided already (the facade's preflight
   * ran them), else NaN: the search ahead must not cost the candidate a build.
   */
  static double decidedOutputErrorRatio(BisectContext emulation, BisectContext candidate) {
    for (BisectContext c : List.of(emulation, candidate)) {
      List<String> outputs = floatOutputs(c);
      if (outputs.isEmpty()
          || !c.prober()
              .isDecided(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, c.basePlan(), outputs))) {
        return Double.NaN;
      }
    }
    return outputErrorRatio(emulation, candidate);
  }

  private static List<String> floatOutputs(BisectContext ctx) {
    return ctx.model().graphOutputs().stream().filter(ctx.model()::isFloat).toList();
  }

  private static double worstOutputError(BisectContext ctx, PrecisionPlan plan) {
    List<String> outputs = floatOutputs(ctx);
    if (outputs.isEmpty()) {
      return Double.NaN;
    }
    // decided by the preflight in the facade's runs; otherwise one build
    ProbeResult r = ctx.prober().probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, plan, outputs));
    double worst = r.tensors().isEmpty() ? Double.NaN : 0;
    for (TensorComparison t : r.tensors().values()) {
      worst = Math.max(worst, t.normalizedError());
    }
    return worst;
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
      DropEach.run(test, current);
    } catch (PrecisionSearch.BudgetExhausted e) {
      complete = false;
    }
    return Optional.of(
        PrecisionSearch.shrunk(
            ctx,
            complete,
            current,
            test,
            steps,
            p.candidateBuilds() - before,
            PrecisionSearch.capReached(
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
