package dev.halfbisect.bisect;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The emulation's search at a stricter bound ({@link EmulationFirst#emulationPlan}), started on a
 * thread of its own before it is known to be needed: while the candidate confirms a plan, which on
 * TensorRT takes 30 to 75 s a build (MiniLM on an H200), the emulation finds the plan the next
 * retry would ask for. When the candidate passes, the search is cancelled at its next round and
 * waited for; its builds still count.
 */
final class StricterSearch {
  /** The plan at the stricter bound and the context that found it. */
  record Found(BisectContext strict, PrecisionSearch.Result plan) {}

  private final double factor;
  private final CompletableFuture<Optional<Found>> found;
  private final AtomicReference<BisectContext> context = new AtomicReference<>();
  private volatile String cancelled;

  private StricterSearch(
      double factor, EmulationFirst.Stricter stricter, PrecisionSearch.Options options) {
    this.factor = factor;
    this.found =
        Background.start(
            "halfbisect-stricter-emulation",
            () -> {
              try {
                return search(stricter, options);
              } catch (ProbesCancelledException e) {
                return Optional.empty();
              }
            });
  }

  /** Starts the search at {@code factor}x below the bound. */
  static StricterSearch start(
      double factor, EmulationFirst.Stricter stricter, PrecisionSearch.Options options) {
    return new StricterSearch(factor, stricter, options);
  }

  private Optional<Found> search(EmulationFirst.Stricter stricter, PrecisionSearch.Options o) {
    Optional<BisectContext> s = stricter.by(factor);
    if (s.isEmpty()) {
      return Optional.empty();
    }
    BisectContext strict = s.get();
    context.set(strict);
    String why = cancelled; // cancelled before the context existed
    if (why != null) {
      strict.prober().cancel(why);
    }
    return Optional.of(new Found(strict, EmulationFirst.emulationPlan(strict, o)));
  }

  /** The stricter bound's factor. */
  double factor() {
    return factor;
  }

  /**
   * The plan, waiting for it; empty when the tolerance cannot be made stricter or the search was
   * cancelled.
   *
   * @throws RuntimeException what the search threw
   */
  Optional<Found> await() {
    return Background.join(found);
  }

  /** Stops the search at its next round and waits for it; what it threw is dropped. */
  void cancel(String why) {
    cancelled = why;
    BisectContext strict = context.get();
    if (strict != null) {
      strict.prober().cancel(why);
    }
    try {
      found.join();
    } catch (CompletionException e) {
      // moot: its plan is not wanted
    }
  }

  /** Emulation builds the search made so far (0 before its context exists). */
  int builds() {
    BisectContext strict = context.get();
    return strict == null ? 0 : strict.prober().candidateBuilds();
  }
}
