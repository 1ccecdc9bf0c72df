package dev.halfbisect.core.backend;

/**
 * The backend cannot run here: libraries, driver or GPU missing. The message says how to fix it.
 */
public class BackendUnavailableException extends BackendException {
  private static final long serialVersionUID = 1L;

  public BackendUnavailableException(String message) {
    super(message);
  }

  public BackendUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
