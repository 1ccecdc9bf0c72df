package dev.halfbisect.onnx;

import dev.halfbisect.onnx.proto.Onnx;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Every tensor a graph carries: initializers, the tensors of node attributes ({@code Constant}'s
 * {@code value} and any other {@code t}/{@code tensors} attribute), recursively through subgraphs
 * (If branches, Loop and Scan bodies). External-data checks and inlining go through here so that no
 * tensor escapes them.
 */
final class ModelTensors {
  private ModelTensors() {}

  /** Calls {@code f} on every tensor of {@code g} and its subgraphs. */
  static void forEach(Onnx.GraphProto g, Consumer<Onnx.TensorProto> f) {
    g.getInitializerList().forEach(f);
    for (Onnx.NodeProto n : g.getNodeList()) {
      for (Onnx.AttributeProto a : n.getAttributeList()) {
        if (a.hasT()) {
          f.accept(a.getT());
        }
        a.getTensorsList().forEach(f);
        if (a.hasG()) {
          forEach(a.getG(), f);
        }
        a.getGraphsList().forEach(sub -> forEach(sub, f));
      }
    }
  }

  /**
   * {@code g} with every tensor replaced by {@code f}'s answer; {@code g}'s own initializers only
   * when {@code topInitializers} (subgraph initializers always).
   */
  static Onnx.GraphProto map(
      Onnx.GraphProto g, UnaryOperator<Onnx.TensorProto> f, boolean topInitializers) {
    Onnx.GraphProto.Builder b = g.toBuilder();
    if (topInitializers) {
      for (int i = 0; i < b.getInitializerCount(); i++) {
        b.setInitializer(i, f.apply(b.getInitializer(i)));
      }
    }
    for (int i = 0; i < b.getNodeCount(); i++) {
      Onnx.NodeProto n = b.getNode(i);
      if (!hasTensors(n)) {
        continue;
      }
      Onnx.NodeProto.Builder nb = n.toBuilder();
      for (int k = 0; k < nb.getAttributeCount(); k++) {
        Onnx.AttributeProto.Builder ab = nb.getAttribute(k).toBuilder();
        if (ab.hasT()) {
          ab.setT(f.apply(ab.getT()));
        }
        for (int j = 0; j < ab.getTensorsCount(); j++) {
          ab.setTensors(j, f.apply(ab.getTensors(j)));
        }
        if (ab.hasG()) {
          ab.setG(map(ab.getG(), f, true));
        }
        for (int j = 0; j < ab.getGraphsCount(); j++) {
          ab.setGraphs(j, map(ab.getGraphs(j), f, true));
        }
        nb.setAttribute(k, ab);
      }
      b.setNode(i, nb);
    }
    return b.build();
  }

  private static boolean hasTensors(Onnx.NodeProto n) {
    for (Onnx.AttributeProto a : n.getAttributeList()) {
      if (a.hasT() || a.getTensorsCount() > 0 || a.hasG() || a.getGraphsCount() > 0) {
        return true;
      }
    }
    return false;
  }
}
