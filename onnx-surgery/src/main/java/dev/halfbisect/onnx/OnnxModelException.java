package dev.halfbisect.onnx;

/**
 * Base of every error onnx-surgery reports about a model: unchecked, with a message that names the
 * model, node or tensor at fault and what was expected.
 */
public class OnnxModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OnnxModelException(String message) {
    super(message);
  }

  public OnnxModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
