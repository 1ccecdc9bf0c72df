package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Cleans a graph after surgery: removes nodes that do not contribute to any graph output, removes
 * initializers no kept node reads, drops value_info of values that no longer exist, and writes the
 * nodes in topological order. Graph inputs stay as they are (they are the model's interface).
 */
public final class Sanitize {
  private Sanitize() {}

  public static OnnxModel apply(OnnxModel m) {
    Preconditions.checkNotNull(m, "model");
    GraphIndex index = m.index();
    Set<String> live = new HashSet<>();
    Set<String> keptNodes = new HashSet<>();
    Deque<String> stack = new ArrayDeque<>(index.graphOutputs());
    while (!stack.isEmpty()) {
      String t = stack.pop();
      if (!live.add(t)) {
        continue;
      }
      Onnx.NodeProto p = index.producer(t).orElse(null);
      if (p != null && keptNodes.add(p.getName())) {
        stack.addAll(index.nodeInputs(p));
      }
    }
    Onnx.GraphProto g = m.graph();
    Onnx.GraphProto.Builder b =
        g.toBuilder().clearNode().clearInitializer().clearValueInfo().clearInput();
    List<Onnx.NodeProto> nodes = new ArrayList<>(keptNodes.size());
    Set<String> values = new HashSet<>(live);
    for (Onnx.NodeProto n : index.nodes()) {
      if (keptNodes.contains(n.getName())) {
        nodes.add(n);
        values.addAll(n.getOutputList());
      }
    }
    b.addAllNode(nodes);
    Set<String> removedInitializers = new HashSet<>();
    for (Onnx.TensorProto t : g.getInitializerList()) {
      if (live.contains(t.getName())) {
        b.addInitializer(t);
      } else {
        removedInitializers.add(t.getName());
      }
    }
    for (Onnx.ValueInfoProto v : g.getInputList()) {
      if (!removedInitializers.contains(v.getName())) {
        b.addInput(v); // keeps real inputs; drops IR<4 input entries of removed initializers
      }
    }
    for (Onnx.ValueInfoProto v : g.getValueInfoList()) {
      if (values.contains(v.getName())) {
        b.addValueInfo(v);
      }
    }
    return m.withGraph(b.build());
  }
}
