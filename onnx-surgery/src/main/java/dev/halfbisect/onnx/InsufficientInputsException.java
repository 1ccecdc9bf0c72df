package dev.halfbisect.onnx;

/**
 * {@link Extract}: an output of the subgraph needs a graph input that is not among the given
 * inputs. The caller's argument, not the model, is wrong (the CLI makes it a usage error).
 */
public class InsufficientInputsException extends MalformedModelException {
  private static final long serialVersionUID = 1L;

  public InsufficientInputsException(String message) {
    super(message);
  }
}
