package dev.halfbisect.bisect;

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
   * @param calibration when the plan came from a stricter emulation: the candidate's all-FP16
   *     output error over the emulation's; NaN otherwise
   * @param nominal when calibrated: whether the candidate passed the stricter plan as the emulation
   *     shrank it at the bound divided by the ratio alone (else it shrank the stricter plan itself)
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
   * Margin over the measured error ratio: the stricter emulation aims a little below the bound the
   * candidate must meet, since the ratio is measured on the all-FP16 model only.
   */
  public static final double CALIBRATION_MARGIN = 1.25;

  /**
   * Emulation probes the candidate's guided shrink of the stricter plan may spend on ranking its
   * nodes ({@link GuidedShrink}), apart from the emulation's search cap: an emulation probe of
   * MiniLM takes about 0.6 s on the H200 host, four at a time, so at most about a minute.
   */
  static final int RANKING_PROBES = 400;

  /**
   * As {@link #precision(BisectContext, BisectContext, PrecisionSearch.Options,
   * PrecisionSearch.Options)}, with one more try before the candidate searches on its own: when the
   * candidate fails the emulation's plan and its outputs with nothing pinned err more than the
   * emulation's (TensorRT's fused kernels round differently), the emulation searches again with its
   * bound divided by that ratio times {@link #CALIBRATION_MARGIN}. That plan pins more than the
   * candidate needs, so the emulation first shrinks it at the bound divided by the ratio alone
   * (emulation probes are cheap), and the candidate confirms that smaller plan and shrinks it,
   * guided by the emulation's ranking of its nodes ({@link GuidedShrink}). When the candidate fails
   * it (the ratio is measured on the all-FP16 model only), the candidate confirms the stricter plan
   * and shrinks it the same way. A wrong guess costs one candidate build; a right one saves the
   * candidate a search of its own.
   */
  public static Precision precision(
      BisectContext emulation,
      BisectContext candidate,
      PrecisionSearch.Options emulationOptions,
      PrecisionSearch.Options options,
      Stricter stricter) {
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
    double ratio = outputErrorRatio(emulation, candidate);
    Optional<BisectContext> strict =
        ratio > 1 && Double.isFinite(ratio)
            ? stricter.by(ratio * CALIBRATION_MARGIN)
            : Optional.empty();
    if (strict.isPresent()) {
      BisectContext s = strict.get();
      PrecisionSearch.Result again = PrecisionSearch.run(s, emulationOptions);
      LOG.info(
          "precision (emulation first): {} errs {}x the emulation on the all-FP16 outputs; the"
              + " emulation at a {}x stricter bound pins {} nodes",
          candidate.backends().candidateLabel(),
          String.format(java.util.Locale.ROOT, "%.2f", ratio),
          String.format(java.util.Locale.ROOT, "%.2f", ratio * CALIBRATION_MARGIN),
          again.fp32Nodes().size());
      Retry retry =
          again.found() && !again.fp32Nodes().isEmpty()
              ? shrinkStricterPlan(s, again, candidate, ratio, stricter, emulationOptions, options)
              : new Retry(Optional.empty(), false, s.prober().candidateBuilds());
      emuBuilds += retry.emulationBuilds();
      if (retry.result().isPresent()) {
        return new Precision(retry.result().get(), emuBuilds, true, ratio, retry.nominal());
      }
      LOG.info(
          "precision (emulation first): {} fails the stricter emulation's plan too",
          candidate.backends().candidateLabel());
    }
    LOG.info(
        "precision (emulation first): {} disagrees with the emulation's plan; searching on it",
        candidate.backends().candidateLabel());
    return new Precision(PrecisionSearch.run(candidate, options), emuBuilds, false);
  }

  /**
   * The calibrated retry's shrink of the stricter emulation's plan on the candidate; {@code
   * emulationBuilds} counts the stricter emulation's builds and those at the ratio's bound.
   */
  private record Retry(
      Optional<PrecisionSearch.Result> result, boolean nominal, int emulationBuilds) {}

  /**
   * The margin pins more than the ratio predicts the candidate needs: the emulation at the ratio's
   * own bound shrinks {@code plan}, and the candidate confirms that smaller plan and shrinks it
   * guided by that emulation; when the candidate fails it, the candidate shrinks {@code plan}
   * itself, guided by {@code strict}, with what is left of its cap.
   */
  private static Retry shrinkStricterPlan(
      BisectContext strict,
      PrecisionSearch.Result plan,
      BisectContext candidate,
      double ratio,
      Stricter stricter,
      PrecisionSearch.Options emulationOptions,
      PrecisionSearch.Options options) {
    List<String> always = options.pinOverflows() ? plan.overflowNodes() : List.of();
    candidate.listener().phase("confirm");
    int before = candidate.prober().candidateBuilds();
    Optional<BisectContext> atRatio = stricter.by(ratio);
    Optional<PrecisionSearch.Result> shrunk =
        atRatio.flatMap(
            n ->
                PrecisionSearch.shrinkIfPasses(
                    n, plan.fp32Nodes(), emulationOptions, always, "nominal"));
    shrunk.ifPresent(
        r ->
            LOG.info(
                "precision (emulation first): the emulation at a {}x stricter bound keeps {} of"
                    + " them; confirming on {}",
                String.format(java.util.Locale.ROOT, "%.2f", ratio),
                r.fp32Nodes().size(),
                candidate.backends().candidateLabel()));
    Optional<PrecisionSearch.Result> nominal =
        shrunk.flatMap(
            r ->
                GuidedShrink.run(
                    atRatio.get(),
                    candidate,
                    r.fp32Nodes(),
                    options,
                    options.maxSearchBuilds(),
                    RANKING_PROBES,
                    always,
                    "confirm"));
    Optional<PrecisionSearch.Result> result =
        nominal.isPresent()
            ? nominal
            : GuidedShrink.run(
                strict,
                candidate,
                plan.fp32Nodes(),
                options,
                // the failed try of the smaller plan counts against the candidate's cap
                Math.max(
                    1, options.maxSearchBuilds() - (candidate.prober().candidateBuilds() - before)),
                RANKING_PROBES,
                always,
                "confirm");
    int emulationBuilds =
        strict.prober().candidateBuilds()
            + atRatio.map(n -> n.prober().candidateBuilds()).orElse(0);
    return new Retry(result, nominal.isPresent(), emulationBuilds);
  }

  /**
   * Worst normalized error of the candidate's all-FP16 graph outputs over the emulation's (the
   * facade's preflight has measured both: no build then); NaN when either is unknown or the
   * emulation's is 0.
   */
  static double outputErrorRatio(BisectContext emulation, BisectContext candidate) {
    double e = worstOutputError(emulation);
    double c = worstOutputError(candidate);
    return e > 0 && Double.isFinite(e) ? c / e : Double.NaN;
  }

  private static double worstOutputError(BisectContext ctx) {
    List<String> outputs =
        ctx.model().graphOutputs().stream().filter(ctx.model()::isFloat).toList();
    if (outputs.isEmpty()) {
      return Double.NaN;
    }
    // decided by the preflight in the facade's runs; otherwise one build
    ProbeResult r =
        ctx.prober().probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), outputs));
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
      GuidedShrink.dropEach(test, current);
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
