package dev.halfbisect.api.testing;

import dev.halfbisect.bisect.testing.InterpreterLikeBackend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Backend {@code slowstart}: the interpreter, whose first all-FP16 build (a candidate's preflight,
 * as TensorRT's cold all-FP16 build) waits until {@link #progress} has moved by {@link #steps}, at
 * most 10 s: only work that runs beside that build can move it (emulation first's head start, issue
 * 18). With {@link #broken} its FP16 builds fail, as a candidate that cannot run the model.
 */
public final class SlowStartBackend extends InterpreterLikeBackend {
  public static volatile IntSupplier progress = () -> 0;
  public static volatile int steps;
  public static volatile boolean broken;

  /** Whether the first all-FP16 build saw the progress it waited for (false: it timed out). */
  public static volatile Boolean sawProgress;

  /** Back to the defaults, before each test. */
  public static void reset() {
    progress = () -> 0;
    steps = 0;
    broken = false;
    sawProgress = null;
  }

  @Override
  public String name() {
    return "slowstart";
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    boolean fp16 = !options.mode().equals(referenceMode());
    if (fp16 && broken) {
      throw new BackendException("slowstart: no FP16 kernels for this model");
    }
    if (fp16 && options.plan().fp32Nodes().isEmpty() && sawProgress == null) {
      int from = progress.getAsInt();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      boolean moved = false;
      while (!moved && System.nanoTime() < until) {
        moved = progress.getAsInt() - from >= steps;
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new BackendException("interrupted", e);
        }
      }
      sawProgress = moved;
    }
    return interp.open(model, options);
  }
}
