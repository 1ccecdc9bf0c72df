package dev.halfbisect.core.backend;

/**
 * The backend process died or exceeded its time limit while building or running a probe. Searches
 * record such a probe as a "backend crash" result and go on.
 */
public class BackendCrashException extends BackendException {
  private static final long serialVersionUID = 1L;

  public BackendCrashException(String message) {
    super(message);
  }

  public BackendCrashException(String message, Throwable cause) {
    super(message, cause);
  }
}
