package dev.halfbisect.cli.testing;

import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import java.util.List;

/**
 * Backend {@code slow}: the Java interpreter backend ({@code interp}) with a pause of {@code
 * halfbisect.test.slowMillis} (default 0) before every candidate build, as a TensorRT build would
 * take; lets a test kill a search in its middle without racing it.
 */
public final class SlowBackend implements Backend {
  public static final String PAUSE = "halfbisect.test.slowMillis";

  private Backend interp() {
    return Backends.all().get("interp");
  }

  @Override
  public String name() {
    return "slow";
  }

  @Override
  public List<String> modes() {
    return List.of("fp32", "fp16-emulated");
  }

  @Override
  public String referenceMode() {
    return "fp32";
  }

  @Override
  public String candidateMode() {
    return "fp16-emulated";
  }

  @Override
  public Availability availability() {
    return interp().availability();
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
    return interp().open(model, options);
  }
}
