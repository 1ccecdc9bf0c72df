package dev.halfbisect.core.backend;

/** A model could not be built or run by a backend. The message names the model, node or tensor. */
public class BackendException extends Exception {
  private static final long serialVersionUID = 1L;

  public BackendException(String message) {
    super(message);
  }

  public BackendException(String message, Throwable cause) {
    super(message, cause);
  }
}
