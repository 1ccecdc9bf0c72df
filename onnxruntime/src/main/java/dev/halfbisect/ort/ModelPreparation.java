package dev.halfbisect.ort;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.MarkOutputs;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.OnnxModelException;
import dev.halfbisect.onnx.UnknownNameException;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrites a model for one build with onnx-surgery: FP16 emulation under the plan (for
 * {@code fp16-emulated}), then the observed tensors marked as graph outputs. Observed names are
 * checked against the original model, so an observed tensor is always an ONNX tensor of the
 * caller's model.
 */
final class ModelPreparation {
  private ModelPreparation() {}

  /**
   * @throws IllegalArgumentException for observed tensors or plan nodes the model lacks, naming them
   * @throws BackendException when the bytes are not a model onnx-surgery can read or rewrite
   */
  static PreparedModel prepare(ModelRef ref, byte[] bytes, BuildOptions options, boolean emulate)
      throws BackendException {
    if (!emulate && options.observed().isEmpty()) {
      return new PreparedModel(bytes, ImmutableList.of()); // nothing to rewrite: skip parsing
    }
    OnnxModel model;
    try {
      model = OnnxModel.parse(bytes, ref.baseDir().orElse(null), ref.name());
    } catch (OnnxModelException e) {
      throw new BackendException("model '" + ref.name() + "' cannot be read: " + e.getMessage(), e);
    }
    GraphIndex index = model.index();
    List<String> missing = new ArrayList<>();
    for (String name : options.observed()) {
      if (!index.hasValue(name)) {
        missing.add(name);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("model '" + ref.name() + "' has no tensor named " + missing
          + "; observe node outputs or graph inputs");
    }
    List<String> graphOutputs = index.graphOutputs();
    List<String> marked = new ArrayList<>();
    for (String name : options.observed()) {
      if (!graphOutputs.contains(name)) {
        marked.add(name);
      }
    }
    try {
      OnnxModel m = emulate ? Emulation.apply(model, options.plan()) : model;
      if (!marked.isEmpty()) {
        m = MarkOutputs.tensors(m, marked);
      }
      return new PreparedModel(m.toBytes(), marked);
    } catch (UnknownNameException e) {
      throw new IllegalArgumentException("model '" + ref.name() + "': " + e.getMessage(), e);
    } catch (OnnxModelException e) {
      throw new BackendException("model '" + ref.name() + "' cannot be prepared for "
          + options.mode() + ": " + e.getMessage(), e);
    }
  }
}
