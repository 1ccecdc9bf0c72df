package dev.halfbisect.bisect;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Work of a search run on a daemon thread of its own beside the search (emulation first's head
 * start and its stricter searches), and the join that rethrows what it threw as it was thrown.
 */
public final class Background {
  private Background() {}

  /** Starts {@code work} on a new daemon thread named {@code name}. */
  public static <T> CompletableFuture<T> start(String name, Supplier<T> work) {
    CompletableFuture<T> f = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                f.complete(work.get());
              } catch (RuntimeException | Error e) {
                f.completeExceptionally(e);
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return f;
  }

  /**
   * Waits for {@code f}; what its work threw is rethrown unwrapped (a {@link RuntimeException} or
   * an {@link Error}).
   */
  public static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }
}
