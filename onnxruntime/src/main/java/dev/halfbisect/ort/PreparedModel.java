package dev.halfbisect.ort;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * The serialized model ONNX Runtime builds for one (model, mode, plan, observed set), and the
 * names its session returns: the original graph outputs first, then the observed tensors that
 * were not graph outputs already.
 */
record PreparedModel(byte[] bytes, List<String> graphOutputs, List<String> observedOutputs) {
  PreparedModel {
    graphOutputs = ImmutableList.copyOf(graphOutputs);
    observedOutputs = ImmutableList.copyOf(observedOutputs);
  }

  /** All names a run returns, in {@link dev.halfbisect.core.backend.BackendSession#outputNames()} order. */
  ImmutableList<String> outputNames() {
    return ImmutableList.<String>builder().addAll(graphOutputs).addAll(observedOutputs).build();
  }
}
