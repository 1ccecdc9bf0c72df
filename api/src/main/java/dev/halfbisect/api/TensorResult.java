package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.Layerwise;
import java.util.List;

/**
 * One tensor compared, reference vs candidate, over all samples.
 *
 * @param tensor the ONNX tensor name
 * @param node the ONNX node producing it
 * @param opType that node's op type
 * @param normalizedError ||candidate - reference||_2 / ||reference||_2 of the worst sample
 * @param maxAbs largest |candidate - reference| over the samples
 * @param pass whether the tensor passes the tolerance on every sample
 */
public record TensorResult(
    String tensor,
    String node,
    String opType,
    double normalizedError,
    double maxAbs,
    boolean pass) {

  static TensorResult of(Layerwise.TensorReport t) {
    return new TensorResult(
        t.tensor(),
        t.node(),
        t.opType(),
        t.error().normalizedError(),
        t.error().maxAbs(),
        t.pass());
  }

  /** The same list, same order. */
  static ImmutableList<TensorResult> of(List<Layerwise.TensorReport> tensors) {
    return tensors.stream().map(TensorResult::of).collect(ImmutableList.toImmutableList());
  }
}
