package dev.halfbisect.onnx;

/**
 * A tensor's external data reference is unusable: absolute or escaping location, symlink out of the
 * model folder, missing file, negative or out-of-file offset/length, or an I/O failure reading it.
 */
public class ExternalDataException extends OnnxModelException {
  private static final long serialVersionUID = 1L;

  public ExternalDataException(String message) {
    super(message);
  }

  public ExternalDataException(String message, Throwable cause) {
    super(message, cause);
  }
}
