package dev.halfbisect.api;

/**
 * A halfbisect operation could not be carried out. {@link #kind()} tells the caller whose fault it
 * is: a usage problem (bad option, missing file, unknown tensor, inputs not matching the model) or
 * a model/backend problem. The message names the file, tensor or backend and what was expected.
 */
public class HalfBisectException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Who has to fix the problem. */
  public enum Kind {
    /** The caller: options, files, names or inputs are wrong. */
    USAGE,
    /** The model cannot be read or is not valid ONNX. */
    MODEL,
    /** A backend is missing or failed to build or run the model. */
    BACKEND
  }

  private final Kind kind;

  public HalfBisectException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public HalfBisectException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  static HalfBisectException usage(String message) {
    return new HalfBisectException(Kind.USAGE, message);
  }

  public Kind kind() {
    return kind;
  }
}
