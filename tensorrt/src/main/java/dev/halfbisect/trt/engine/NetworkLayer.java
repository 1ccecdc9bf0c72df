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

  /** The ONNX nodes this layer came from (see {@link LayerNames#onnxNodes}). */
  public ImmutableList<String> onnxNodes() {
    return LayerNames.onnxNodes(name, metadata);
  }
}
