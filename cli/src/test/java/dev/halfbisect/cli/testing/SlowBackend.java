package dev.halfbisect.cli.testing;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.testing.ForwardingSession;
import dev.halfbisect.bisect.testing.InterpreterLikeBackend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.BuildStats;
import dev.halfbisect.core.backend.ModelRef;

/**
 * Backend {@code slow}: the Java interpreter backend ({@code interp}) with a pause of {@code
 * halfbisect.test.slowMillis} (default 0) before every candidate build, as a TensorRT build would
 * take; lets a test kill a search in its middle without racing it. Its candidate builds report the
 * build notes a TensorRT build would (warnings, the plan check): one per pinned node, {@code pinned
 * node N runs in FP32}, and the number of FP32 nodes.
 */
public final class SlowBackend extends InterpreterLikeBackend {
  public static final String PAUSE = "halfbisect.test.slowMillis";

  @Override
  public String name() {
    return "slow";
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    long pause = Long.getLong(PAUSE, 0);
    if (pause > 0 && options.mode().equals(candidateMode())) {
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BackendException("interrupted", e);
      }
    }
    BackendSession s = interp.open(model, options);
    return options.mode().equals(candidateMode()) ? new Noting(s, options) : s;
  }

  /** The interpreter's session with build notes like TensorRT's plan check. */
  private static final class Noting extends ForwardingSession {
    private final BuildOptions options;

    Noting(BackendSession s, BuildOptions options) {
      super(s);
      this.options = options;
    }

    @Override
    public BuildStats buildStats() {
      BuildStats b = delegate().buildStats();
      ImmutableList.Builder<String> notes = ImmutableList.builder();
      for (String n : options.plan().fp32Nodes()) {
        notes.add("pinned node " + n + " runs in FP32");
      }
      notes.add("slow: " + options.plan().fp32Nodes().size() + " nodes in FP32");
      return new BuildStats(b.buildTime(), b.outputCount(), b.cached(), notes.build());
    }
  }
}
