package dev.halfbisect.core.data;

/**
 * A {@code .npy} or {@code .npz} input that halfbisect cannot read or a tensor it cannot write. The
 * message starts with the file (and zip member) so the user knows which input is broken.
 */
public class NpyFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String source;

  public NpyFormatException(String source, String problem) {
    super(source + ": " + problem);
    this.source = source;
  }

  public NpyFormatException(String source, String problem, Throwable cause) {
    super(source + ": " + problem, cause);
    this.source = source;
  }

  /** The file, or {@code file!member} for a zip member. */
  public String source() {
    return source;
  }
}
