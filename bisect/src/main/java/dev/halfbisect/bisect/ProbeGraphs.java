package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.DType;
import dev.halfbisect.onnx.Extract;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The graph surgery behind probes: prefix and explicit subgraphs with golden cut inputs, and the
 * shadow graph. Every method returns a new model; node and tensor names are kept, so results map
 * back to the original graph by name.
 */
final class ProbeGraphs {
  /** Suffix of shadow copies of nodes and their outputs. */
  static final String SHADOW_SUFFIX = "__shadow";

  private ProbeGraphs() {}

  /**
   * Ancestors of {@code target} (its prefix) with {@code target} and {@code extra} as outputs: an
   * onnx-surgery {@link Extract} from the graph inputs the prefix reads. Extras outside the prefix
   * are dropped.
   */
  static Onnx.ModelProto prefix(ModelGraph g, String target, List<String> extraOutputs) {
    Set<Integer> positions = new TreeSet<>(g.ancestorPositions(target));
    Set<String> outs =
        new LinkedHashSet<>(); // a set: extras can be every tensor of a 100k-node model
    outs.add(target);
    for (String e : extraOutputs) {
      if (!outs.contains(e)
          && (g.graphInputs().contains(e)
              || g.producer(e)
                  .map(n -> positions.contains(g.topoPosition(n.getName())))
                  .orElse(false))) {
        outs.add(e);
      }
    }
    Set<String> reads = new HashSet<>(outs);
    for (int p : positions) {
      reads.addAll(g.nodeInputs(g.nodes().get(p)));
    }
    List<String> inputs = g.graphInputs().stream().filter(reads::contains).toList();
    return Extract.subgraph(g.model(), inputs, new ArrayList<>(outs)).proto();
  }

  /**
   * The nodes at {@code positions}; {@code cutInputs} become graph inputs (fed golden values),
   * graph inputs the nodes read stay inputs, initializers they read are kept.
   */
  static Onnx.ModelProto subgraph(
      ModelGraph g, Collection<Integer> positions, List<String> cutInputs, List<String> outputs) {
    return subgraph(g, positions, cutInputs, outputs, Map.of());
  }

  /**
   * As {@link #subgraph(ModelGraph, Collection, List, List)}, declaring each cut input with the
   * shape in {@code cutShapes} (-1 for a dimension that varies between samples); a cut input
   * without a shape there is declared with unknown rank.
   */
  static Onnx.ModelProto subgraph(
      ModelGraph g,
      Collection<Integer> positions,
      List<String> cutInputs,
      List<String> outputs,
      Map<String, long[]> cutShapes) {
    Onnx.GraphProto src = g.proto().getGraph();
    Onnx.GraphProto.Builder b = Onnx.GraphProto.newBuilder().setName(src.getName() + "_probe");
    Set<String> reads = new LinkedHashSet<>();
    Set<String> cuts = new HashSet<>(cutInputs);
    for (int p : new TreeSet<>(positions)) {
      Onnx.NodeProto n = g.nodes().get(p);
      b.addNode(n);
      reads.addAll(g.nodeInputs(n));
    }
    for (String c : cutInputs) {
      Onnx.ValueInfoProto v = valueInfo(g, c);
      long[] shape = cutShapes.get(c);
      if (shape != null && !g.graphInputs().contains(c)) {
        Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
        for (int i = 0; i < shape.length; i++) {
          s.addDim(
              shape[i] >= 0
                  ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(shape[i])
                  : Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(c + "_dim" + i));
        }
        v =
            v.toBuilder()
                .setType(
                    v.getType().toBuilder()
                        .setTensorType(v.getType().getTensorType().toBuilder().setShape(s)))
                .build();
      }
      b.addInput(v);
    }
    for (Onnx.ValueInfoProto in : src.getInputList()) {
      if (reads.contains(in.getName())
          && !cuts.contains(in.getName())
          && !g.isInitializer(in.getName())) {
        b.addInput(in);
      }
    }
    for (Onnx.TensorProto t : src.getInitializerList()) {
      if (reads.contains(t.getName()) && !cuts.contains(t.getName())) {
        b.addInitializer(t);
      }
    }
    for (String o : outputs) {
      b.addOutput(valueInfo(g, o));
    }
    return g.proto().toBuilder().setGraph(b.build()).build();
  }

  /**
   * The whole model plus, for each of {@code nodes}, a copy {@code <node>__shadow} reading the same
   * inputs and writing {@code <output>__shadow}. Run under {@link #shadowPlan}, the originals are
   * pinned FP32, so the copies read golden FP32 values and compute in FP16: their error is the
   * node's local error. The copies' outputs are graph outputs after the original ones.
   */
  static Onnx.ModelProto shadow(ModelGraph g, List<String> nodes) {
    Onnx.GraphProto.Builder b = g.proto().getGraph().toBuilder();
    java.util.Map<String, String> saturated = new java.util.HashMap<>();
    for (String name : nodes) {
      Onnx.NodeProto n = g.node(name);
      Onnx.NodeProto.Builder copy = n.toBuilder().setName(name + SHADOW_SUFFIX).clearOutput();
      for (int k = 0; k < n.getInputCount(); k++) {
        String in = n.getInput(k);
        if (saturates(g, in)) {
          copy.setInput(k, saturated.computeIfAbsent(in, t -> addSaturation(b, t, saturated)));
        }
      }
      for (String o : n.getOutputList()) {
        copy.addOutput(o.isEmpty() ? "" : o + SHADOW_SUFFIX);
      }
      b.addNode(copy);
      for (String o : n.getOutputList()) {
        if (!o.isEmpty() && g.isFloat(o)) {
          b.addOutput(valueInfo(g, o).toBuilder().setName(o + SHADOW_SUFFIX));
        }
      }
    }
    return g.proto().toBuilder().setGraph(b.build()).build();
  }

  /**
   * Every original float node pinned FP32, and the saturation nodes; the shadow copies (not named
   * in the plan) run FP16.
   */
  static dev.halfbisect.core.plan.PrecisionPlan shadowPlan(ModelGraph g) {
    ImmutableList.Builder<String> pinned = ImmutableList.builder();
    g.nodes().forEach(n -> pinned.add(n.getName()));
    for (String t : g.saturatingTensors()) {
      if (saturates(g, t)) {
        pinned.add(t + SATURATE_HI, t + SATURATE_LO);
      }
    }
    return dev.halfbisect.core.plan.PrecisionPlan.fp16Except(pinned.build());
  }

  /** Names of the two FP32 nodes that clamp a saturating tensor for the shadow copies. */
  static final String SATURATE_HI = "__shadow_saturate_hi";

  static final String SATURATE_LO = "__shadow_saturate_lo";

  private static final String FP16_MAX_NAME = "__shadow_fp16_max";
  private static final String FP16_LOWEST_NAME = "__shadow_fp16_lowest";

  /**
   * Whether a shadow copy must read {@code t} clamped to +-65504: it carries a constant TensorRT
   * clamps (the -3.4e38 of attention masks) and is computed, so the emulation would round its FP32
   * golden value to -inf, a value no FP16 engine holds there (issue 15). Constants themselves are
   * clamped by the emulation.
   */
  private static boolean saturates(ModelGraph g, String t) {
    return g.saturatingTensors().contains(t) && !g.isConstant(t) && !g.isInitializer(t);
  }

  /** Appends {@code Max(Min(t, 65504), -65504)} (pinned FP32 by {@link #shadowPlan}). */
  private static String addSaturation(
      Onnx.GraphProto.Builder b, String t, java.util.Map<String, String> done) {
    if (done.isEmpty()) {
      b.addInitializer(scalar(FP16_MAX_NAME, 65504f));
      b.addInitializer(scalar(FP16_LOWEST_NAME, -65504f));
    }
    String hi = t + SATURATE_HI;
    String lo = t + SATURATE_LO;
    b.addNode(
        Onnx.NodeProto.newBuilder()
            .setName(hi)
            .setOpType("Min")
            .addInput(t)
            .addInput(FP16_MAX_NAME)
            .addOutput(hi));
    b.addNode(
        Onnx.NodeProto.newBuilder()
            .setName(lo)
            .setOpType("Max")
            .addInput(hi)
            .addInput(FP16_LOWEST_NAME)
            .addOutput(lo));
    return lo;
  }

  private static Onnx.TensorProto scalar(String name, float v) {
    return dev.halfbisect.onnx.TensorData.fromTensor(
        name, dev.halfbisect.core.Tensor.ofFloats(new long[0], v));
  }

  static Onnx.ValueInfoProto valueInfo(ModelGraph g, String tensor) {
    for (Onnx.ValueInfoProto v : g.proto().getGraph().getInputList()) {
      if (v.getName().equals(tensor)) {
        return v;
      }
    }
    DType d =
        g.elementType(tensor)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "model "
                            + g.name()
                            + ": element type of tensor '"
                            + tensor
                            + "' is unknown, cannot make it a probe input/output"));
    return Onnx.ValueInfoProto.newBuilder()
        .setName(tensor)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(d.onnxCode())))
        .build();
  }
}
