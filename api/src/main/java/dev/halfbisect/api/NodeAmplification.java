package dev.halfbisect.api;

import dev.halfbisect.bisect.Amplification;

/**
 * How one node treats FP16 error (a flat view of the bisect module's
 * {@link Amplification.NodeAmplification}).
 *
 * @param node ONNX node name
 * @param opType its op type
 * @param localError normalized error of the node run in FP16 on exact (FP32) inputs: error born here
 * @param inputError worst accumulated normalized error among its floating-point inputs
 * @param outputError accumulated normalized error of its output in the candidate run
 * @param amplification outputError / inputError
 */
public record NodeAmplification(String node, String opType, double localError, double inputError,
    double outputError, double amplification) {

  static NodeAmplification of(Amplification.NodeAmplification n) {
    return new NodeAmplification(n.node(), n.opType(), n.localError(), n.inputError(), n.outputError(),
        n.amplification());
  }
}
