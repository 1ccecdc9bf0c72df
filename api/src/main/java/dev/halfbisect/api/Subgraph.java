package dev.halfbisect.api;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model made of some nodes of a graph: tensors they consume but do not produce become graph
 * inputs (typed from observed values), initializers they use are copied, Constant producers are
 * pulled in, and one tensor is the output.
 */
record Subgraph(Onnx.ModelProto model, List<String> inputs) {

  static Subgraph of(ModelGraph g, Set<String> nodeNames, String output, Map<String, Tensor> values) {
    Set<String> names = new HashSet<>(nodeNames);
    // Constants have no inputs: carrying them along costs nothing and keeps inputs meaningful.
    for (Onnx.NodeProto n : g.nodes()) {
      if (names.contains(n.getName())) {
        for (String in : n.getInputList()) {
          g.producer(in).filter(p -> p.getOpType().equals("Constant")).ifPresent(p -> names.add(p.getName()));
        }
      }
    }
    List<Onnx.NodeProto> nodes = new ArrayList<>();
    Set<String> produced = new HashSet<>();
    for (Onnx.NodeProto n : g.nodes()) {
      if (names.contains(n.getName())) {
        nodes.add(n);
        produced.addAll(n.getOutputList());
      }
    }
    Set<String> inputs = new LinkedHashSet<>();
    Set<String> inits = new LinkedHashSet<>();
    for (Onnx.NodeProto n : nodes) {
      for (String in : n.getInputList()) {
        if (in.isEmpty() || produced.contains(in)) {
          continue;
        }
        if (g.initializers().containsKey(in)) {
          inits.add(in);
        } else {
          inputs.add(in);
        }
      }
    }
    Onnx.GraphProto.Builder gb = Onnx.GraphProto.newBuilder().setName(g.proto().getGraph().getName() + "_reduced");
    gb.addAllNode(nodes);
    inits.forEach(i -> gb.addInitializer(g.initializers().get(i)));
    for (String in : inputs) {
      Tensor v = values.get(in);
      if (v == null) {
        throw new HalfBisectException(HalfBisectException.Kind.MODEL, "no value observed for tensor '" + in
            + "' feeding the reduced model");
      }
      gb.addInput(valueInfo(in, v.dtype().onnxCode(), v.shape()));
    }
    Tensor out = values.get(output);
    gb.addOutput(out == null ? Onnx.ValueInfoProto.newBuilder().setName(output).build()
        : valueInfo(output, out.dtype().onnxCode(), null));
    Onnx.ModelProto.Builder mb = g.proto().toBuilder().clearGraph().setGraph(gb);
    return new Subgraph(mb.build(), List.copyOf(inputs));
  }

  private static Onnx.ValueInfoProto valueInfo(String name, int elemType, long[] shape) {
    Onnx.TypeProto.Tensor.Builder tt = Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType);
    if (shape != null) {
      Onnx.TensorShapeProto.Builder sb = Onnx.TensorShapeProto.newBuilder();
      for (long d : shape) {
        sb.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
      }
      tt.setShape(sb);
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(tt)).build();
  }
}
