package dev.halfbisect.api;

import dev.halfbisect.bisect.Background;
import dev.halfbisect.bisect.BisectContext;
import dev.halfbisect.bisect.EmulationFirst;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.bisect.ProbesCancelledException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Emulation first's head start (issue 18): the emulation's search at the bound runs while the
 * candidate builds its all-FP16 engine, which the search does not need. On an H200 that build of
 * MiniLM took 64 to 76 s with a cold timing cache, a quarter of the five minutes. When the
 * candidate turns out to pass as it is, or cannot run the model, the emulation is cancelled at its
 * next round and its work dropped; a candidate error then surfaces as it would have.
 */
final class EmulationHeadStart {
  /**
   * @param asIs the candidate's answer when it passes as it is (then no emulation plan)
   * @param emulationPlan the emulation's plan at the bound otherwise
   */
  record Outcome(Optional<PrecisionSearch.Result> asIs, PrecisionSearch.Result emulationPlan) {}

  private EmulationHeadStart() {}

  /**
   * Runs {@code candidateCheck} (the candidate's preflight, then whether it passes as it is: its
   * answer or null) on a thread of its own and {@link EmulationFirst#emulationPlan} on this one.
   *
   * @throws RuntimeException what {@code candidateCheck} or the emulation's search threw
   */
  static Outcome run(
      BisectContext emulation,
      PrecisionSearch.Options emulationOptions,
      Supplier<PrecisionSearch.Result> candidateCheck) {
    CompletableFuture<PrecisionSearch.Result> candidate =
        Background.start(
            "halfbisect-candidate-preflight",
            () -> {
              try {
                PrecisionSearch.Result r = candidateCheck.get();
                if (r != null) {
                  emulation.prober().cancel("the candidate passes as it is");
                }
                return r;
              } catch (RuntimeException e) {
                emulation.prober().cancel("the candidate cannot run the model");
                throw e;
              }
            });
    PrecisionSearch.Result plan = null;
    try {
      plan = EmulationFirst.emulationPlan(emulation, emulationOptions);
    } catch (ProbesCancelledException e) {
      // moot: the candidate's answer (or error) follows
    }
    PrecisionSearch.Result asIs = Background.join(candidate);
    if (asIs != null) {
      return new Outcome(Optional.of(asIs), null);
    }
    if (plan == null) {
      throw new IllegalStateException("the emulation was cancelled but the candidate fails");
    }
    return new Outcome(Optional.empty(), plan);
  }
}
