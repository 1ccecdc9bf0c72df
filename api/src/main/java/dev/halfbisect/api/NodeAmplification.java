package dev.halfbisect.api;

/**
 * How one node treats FP16 error.
 *
 * @param node ONNX node name
 * @param opType its op type
 * @param localError normalized error of the node run in FP16 on exact (FP32) inputs: error born here
 * @param inputError worst accumulated normalized error among its floating-point inputs
 * @param outputError accumulated normalized error of its output in the candidate run
 * @param amplification outputError / inputError (NaN when the inputs carry no error)
 */
public record NodeAmplification(String node, String opType, double localError, double inputError,
    double outputError, double amplification) {}
