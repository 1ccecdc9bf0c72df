package dev.halfbisect.onnx;

import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Subgraph attributes of control-flow nodes (If branches, Loop and Scan bodies): which names a
 * subgraph reads from the scopes around it. Those names are data dependencies of the node that owns
 * the subgraph, exactly like its explicit inputs.
 */
final class Subgraphs {
  private Subgraphs() {}

  static boolean hasSubgraphs(Onnx.NodeProto node) {
    for (Onnx.AttributeProto a : node.getAttributeList()) {
      if (a.hasG() || a.getGraphsCount() > 0) {
        return true;
      }
    }
    return false;
  }

  static List<Onnx.GraphProto> subgraphs(Onnx.NodeProto node) {
    List<Onnx.GraphProto> out = new ArrayList<>();
    for (Onnx.AttributeProto a : node.getAttributeList()) {
      if (a.hasG()) {
        out.add(a.getG());
      }
      out.addAll(a.getGraphsList());
    }
    return out;
  }

  /** Names the node's subgraphs (recursively) use but do not define, in first-use order. */
  static Set<String> outerReferences(Onnx.NodeProto node) {
    Set<String> out = new LinkedHashSet<>();
    for (Onnx.GraphProto sub : subgraphs(node)) {
      collect(sub, out);
    }
    return out;
  }

  private static void collect(Onnx.GraphProto g, Set<String> out) {
    Set<String> local = new HashSet<>();
    for (Onnx.ValueInfoProto v : g.getInputList()) {
      local.add(v.getName());
    }
    for (Onnx.TensorProto t : g.getInitializerList()) {
      local.add(t.getName());
    }
    for (Onnx.NodeProto n : g.getNodeList()) {
      local.addAll(n.getOutputList());
    }
    for (Onnx.NodeProto n : g.getNodeList()) {
      for (String s : n.getInputList()) {
        if (!s.isEmpty() && !local.contains(s)) {
          out.add(s);
        }
      }
      for (Onnx.GraphProto nested : subgraphs(n)) {
        Set<String> inner = new LinkedHashSet<>();
        collect(nested, inner);
        for (String s : inner) {
          if (!local.contains(s)) {
            out.add(s);
          }
        }
      }
    }
    for (Onnx.ValueInfoProto v : g.getOutputList()) {
      if (!local.contains(v.getName())) {
        out.add(v.getName()); // a subgraph may output an outer value directly
      }
    }
  }
}
