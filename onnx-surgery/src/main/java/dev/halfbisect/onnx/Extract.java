package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Cuts the part of a graph that computes chosen tensors from chosen inputs (the semantics of {@code
 * onnx.utils.extract_model} and Polygraphy {@code surgeon extract}): keeps the nodes needed to
 * compute {@code outputs}, stopping at {@code inputs}; the given inputs become typed (and, where
 * known, shaped) graph inputs; initializers the kept nodes read are kept. Linear in graph size.
 */
public final class Extract {
  private Extract() {}

  /**
   * The subgraph computing {@code outputs} from {@code inputs} plus initializers.
   *
   * @throws UnknownNameException for an input or output name the graph does not have
   * @throws InsufficientInputsException when an output needs a tensor that is neither a given input
   *     nor an initializer nor computable from them; the message names that tensor
   */
  public static OnnxModel subgraph(OnnxModel m, List<String> inputs, List<String> outputs) {
    Preconditions.checkNotNull(inputs, "inputs");
    Preconditions.checkNotNull(outputs, "outputs");
    Preconditions.checkArgument(!outputs.isEmpty(), "extract needs at least one output");
    GraphIndex index = m.index();
    Set<String> inputSet = new LinkedHashSet<>(inputs);
    for (String name : inputSet) {
      if (!index.hasValue(name)) {
        throw UnknownNameException.of("input tensor", name, index.valueNames());
      }
    }
    Set<String> outputSet = new LinkedHashSet<>(outputs);
    for (String name : outputSet) {
      if (!index.hasValue(name)) {
        throw UnknownNameException.of("output tensor", name, index.valueNames());
      }
    }

    Set<String> visited = new HashSet<>();
    Set<String> keptNodes = new HashSet<>();
    Set<String> keptInitializers = new HashSet<>();
    for (String out : outputSet) {
      Deque<String> stack = new ArrayDeque<>();
      stack.push(out);
      while (!stack.isEmpty()) {
        String t = stack.pop();
        if (!visited.add(t) || inputSet.contains(t)) {
          continue;
        }
        if (index.isInitializer(t)) {
          keptInitializers.add(t);
          continue;
        }
        Onnx.NodeProto p = index.producer(t).orElse(null);
        if (p == null) {
          throw new InsufficientInputsException(
              "model "
                  + m.name()
                  + ": output '"
                  + out
                  + "' cannot be computed from the given inputs "
                  + inputSet
                  + ": it needs graph input '"
                  + t
                  + "'; add it to the inputs");
        }
        if (keptNodes.add(p.getName())) {
          for (String in : index.nodeInputs(p)) {
            stack.push(in);
          }
        }
      }
    }

    Onnx.GraphProto g = m.graph();
    Onnx.GraphProto.Builder b =
        g.toBuilder()
            .clearNode()
            .clearInitializer()
            .clearInput()
            .clearOutput()
            .clearValueInfo()
            .clearSparseInitializer();
    List<Onnx.NodeProto> nodes = new ArrayList<>(keptNodes.size());
    for (String name : keptNodes) {
      nodes.add(index.node(name));
    }
    nodes.sort(Comparator.comparingInt(n -> index.topoPosition(n.getName())));
    b.addAllNode(nodes);
    for (Onnx.TensorProto t : g.getInitializerList()) {
      if (keptInitializers.contains(t.getName()) && !inputSet.contains(t.getName())) {
        b.addInitializer(t);
      }
    }
    for (String in : inputSet) {
      b.addInput(index.valueInfo(in));
    }
    for (String out : outputSet) {
      b.addOutput(index.valueInfo(out));
    }
    Set<String> boundary = new HashSet<>(inputSet);
    boundary.addAll(outputSet);
    Set<String> produced = new HashSet<>();
    for (Onnx.NodeProto n : nodes) {
      produced.addAll(n.getOutputList());
    }
    for (Onnx.ValueInfoProto v : g.getValueInfoList()) {
      if (produced.contains(v.getName()) && !boundary.contains(v.getName())) {
        b.addValueInfo(v);
      }
    }
    return m.withGraph(b.build());
  }
}
