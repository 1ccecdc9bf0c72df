package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Declares intermediate tensors as extra graph outputs so a backend returns them (Polygraphy's
 * {@code --onnx-outputs mark all}). Each new output is typed from {@link GraphIndex#valueInfo}; the
 * original outputs stay first and in order. Returns a new model; the input model is untouched.
 */
public final class MarkOutputs {
  private MarkOutputs() {}

  /**
   * The model with {@code names} added as graph outputs (names already outputs are skipped).
   *
   * @throws UnknownNameException for a name the graph does not have, listing close names
   * @throws IllegalArgumentException for an initializer, which is a constant rather than a computed
   *     tensor
   */
  public static OnnxModel tensors(OnnxModel m, Collection<String> names) {
    Preconditions.checkNotNull(names, "names");
    GraphIndex index = m.index();
    for (String name : names) {
      if (!index.hasValue(name)) {
        throw UnknownNameException.of("tensor", name, index.valueNames());
      }
      Preconditions.checkArgument(
          !index.isInitializer(name),
          "'%s' is an initializer (a constant), not a computed tensor; mark an output of a node instead",
          name);
    }
    return withExtraOutputs(m, index, names);
  }

  /**
   * The model with every float (float32/16, bfloat16, float64) node output marked, in topological
   * order.
   */
  public static OnnxModel allFloat(OnnxModel m) {
    return allFloat(m, op -> true);
  }

  /**
   * The model with the float outputs of nodes whose op type passes {@code opTypeFilter} marked, in
   * topological order.
   */
  public static OnnxModel allFloat(OnnxModel m, Predicate<String> opTypeFilter) {
    Preconditions.checkNotNull(opTypeFilter, "opTypeFilter");
    GraphIndex index = m.index();
    List<String> chosen = new ArrayList<>();
    for (String t : index.floatTensors()) {
      String op = index.producer(t).map(Onnx.NodeProto::getOpType).orElse("");
      if (opTypeFilter.test(op)) {
        chosen.add(t);
      }
    }
    return withExtraOutputs(m, index, chosen);
  }

  private static OnnxModel withExtraOutputs(
      OnnxModel m, GraphIndex index, Collection<String> names) {
    Onnx.GraphProto g = m.graph();
    Set<String> outputs = new HashSet<>(index.graphOutputs());
    Set<String> added = new LinkedHashSet<>();
    for (String name : names) {
      if (!outputs.contains(name)) {
        added.add(name);
      }
    }
    if (added.isEmpty()) {
      return m;
    }
    Onnx.GraphProto.Builder b = g.toBuilder();
    for (String name : added) {
      b.addOutput(index.valueInfo(name));
    }
    // A value listed both as output and value_info is redundant; the output declaration wins.
    b.clearValueInfo();
    for (Onnx.ValueInfoProto v : g.getValueInfoList()) {
      if (!added.contains(v.getName())) {
        b.addValueInfo(v);
      }
    }
    return m.withGraph(b.build());
  }
}
