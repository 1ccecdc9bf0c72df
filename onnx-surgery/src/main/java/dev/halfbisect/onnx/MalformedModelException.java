package dev.halfbisect.onnx;

/**
 * The model bytes or graph are not a valid ONNX model: unparseable or truncated protobuf, duplicate
 * value names, dangling node inputs, unknown element types, tensor data that does not match its
 * declared shape.
 */
public class MalformedModelException extends OnnxModelException {
  private static final long serialVersionUID = 1L;

  public MalformedModelException(String message) {
    super(message);
  }

  public MalformedModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
