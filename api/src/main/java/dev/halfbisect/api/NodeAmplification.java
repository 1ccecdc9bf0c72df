package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.Amplification;
import java.util.List;

/**
 * One FP16 node's error: born in it (local) or brought in and magnified (amplification).
 *
 * @param node the ONNX node name
 * @param opType its op type
 * @param localError normalized error of the node run in FP16 on FP32 inputs (NaN if unmeasured)
 * @param inputError worst normalized error of its inputs in the FP16 candidate
 * @param outputError normalized error of its output in the FP16 candidate
 * @param amplification outputError / inputError
 */
public record NodeAmplification(
    String node,
    String opType,
    double localError,
    double inputError,
    double outputError,
    double amplification) {

  static NodeAmplification of(Amplification.NodeAmplification n) {
    return new NodeAmplification(
        n.node(), n.opType(), n.localError(), n.inputError(), n.outputError(), n.amplification());
  }

  /** The same list, same (topological) order. */
  static ImmutableList<NodeAmplification> of(List<Amplification.NodeAmplification> nodes) {
    return nodes.stream().map(NodeAmplification::of).collect(ImmutableList.toImmutableList());
  }
}
