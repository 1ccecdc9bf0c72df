package dev.halfbisect.onnx;

/**
 * The graph has a cycle, so it has no topological order; the message names the nodes on the cycle.
 */
public class GraphCycleException extends OnnxModelException {
  private static final long serialVersionUID = 1L;

  public GraphCycleException(String message) {
    super(message);
  }

  public GraphCycleException(String message, Throwable cause) {
    super(message, cause);
  }
}
