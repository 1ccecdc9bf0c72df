package dev.halfbisect.api;

import dev.halfbisect.bisect.FirstDivergence;

/**
 * Where the FP16 result first leaves the FP32 reference.
 *
 * @param tensor the first failing tensor (topological order)
 * @param node the ONNX node producing it
 * @param opType that node's op type
 * @param normalizedError the tensor's normalized error (worst sample)
 * @param maxAbs its largest absolute difference
 */
public record Divergence(
    String tensor, String node, String opType, double normalizedError, double maxAbs) {

  static Divergence of(FirstDivergence.Divergence d) {
    return new Divergence(
        d.tensor(),
        d.node(),
        d.opType(),
        d.outputError().normalizedError(),
        d.outputError().maxAbs());
  }
}
