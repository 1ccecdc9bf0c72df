package dev.halfbisect.bisect.testing;

import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import java.util.List;

/**
 * A test backend with the interpreter's modes, always available: subclasses give their name and how
 * {@code open} changes the interpreter's sessions (a clock, an error gain).
 */
public abstract class InterpreterLikeBackend implements Backend {
  protected final InterpreterBackend interp = new InterpreterBackend();

  @Override
  public List<String> modes() {
    return interp.modes();
  }

  @Override
  public String referenceMode() {
    return interp.referenceMode();
  }

  @Override
  public String candidateMode() {
    return interp.candidateMode();
  }

  @Override
  public Availability availability() {
    return Availability.yes();
  }
}
