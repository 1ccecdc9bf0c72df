package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;

/**
 * One layer of a parsed TensorRT network as the worker reads it: its name, its metadata string, its
 * type name, and for each output whether it carries float data. Pure data, so that the decisions
 * made over networks are tested without TensorRT.
 */
public record NetworkLayer(
    int index, String name, String metadata, String type, ImmutableList<Boolean> floatOutputs) {
  public NetworkLayer {
    name = name == null ? "" : name;
    metadata = metadata == null ? "" : metadata;
    floatOutputs = ImmutableList.copyOf(floatOutputs);
  }

  /** The indexes of the outputs that carry float data (the ones a precision pin may force). */
  public ImmutableList<Integer> floatOutputIndexes() {
    ImmutableList.Builder<Integer> out = ImmutableList.builder();
    for (int i = 0; i < floatOutputs.size(); i++) {
      if (floatOutputs.get(i)) {
        out.add(i);
      }
    }
    return out.build();
  }

  /** The ONNX nodes this layer came from (see {@link LayerNames#onnxNodes}). */
  public ImmutableList<String> onnxNodes() {
    return LayerNames.onnxNodes(name, metadata);
  }
}
