package dev.halfbisect.ort;

import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * The serialized model ONNX Runtime builds for one (model, mode, plan, observed set), and the
 * observed tensors that were marked as extra graph outputs (appended after the original outputs, so
 * the session's output order is graph outputs first, then these), and warnings for the build
 * statistics.
 */
record PreparedModel(byte[] bytes, List<String> markedOutputs, List<String> warnings) {
  PreparedModel {
    markedOutputs = ImmutableList.copyOf(markedOutputs);
    warnings = ImmutableList.copyOf(warnings);
  }
}
