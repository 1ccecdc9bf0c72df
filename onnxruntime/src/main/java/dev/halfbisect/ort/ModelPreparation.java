package dev.halfbisect.ort;

import com.google.common.collect.ImmutableList;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Rewrites a model for one build: FP16 emulation under the plan, observed tensors marked as outputs. */
final class ModelPreparation {
  private ModelPreparation() {}

  static PreparedModel prepare(String modelName, byte[] bytes, BuildOptions options, boolean emulate)
      throws BackendException {
    if (!emulate && options.observed().isEmpty()) {
      return new PreparedModel(bytes, ImmutableList.of()); // nothing to rewrite: skip parsing
    }
    Onnx.ModelProto proto;
    try {
      proto = Onnx.ModelProto.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new BackendException("model '" + modelName + "' is not a valid ONNX file: " + e.getMessage(), e);
    }
    if (emulate) {
      throw new BackendException("fp16-emulated needs onnx-surgery Fp16Emulation");
    }
    Onnx.GraphProto graph = proto.getGraph();
    List<String> graphOutputs = new ArrayList<>();
    graph.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
    Set<String> values = new LinkedHashSet<>();
    graph.getInputList().forEach(i -> values.add(i.getName()));
    graph.getInitializerList().forEach(i -> values.add(i.getName()));
    graph.getNodeList().forEach(n -> values.addAll(n.getOutputList()));
    List<String> missing = new ArrayList<>();
    for (String name : options.observed()) {
      if (!values.contains(name)) {
        missing.add(name);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("model '" + modelName + "' has no tensor named " + missing);
    }
    List<String> extra = new ArrayList<>();
    for (String name : options.observed()) {
      if (!graphOutputs.contains(name)) {
        extra.add(name);
      }
    }
    if (extra.isEmpty()) {
      return new PreparedModel(bytes, ImmutableList.of());
    }
    Onnx.GraphProto.Builder g = graph.toBuilder();
    extra.forEach(name -> g.addOutput(Onnx.ValueInfoProto.newBuilder().setName(name)));
    return new PreparedModel(proto.toBuilder().setGraph(g).build().toByteArray(), extra);
  }
}
