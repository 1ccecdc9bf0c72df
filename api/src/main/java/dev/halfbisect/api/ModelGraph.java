package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.OnnxModelException;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The facade's read-only view of an ONNX model: nodes in topological order (every node named,
 * unnamed ones as {@code <OpType>_<k>} with k its position, the convention of onnx-surgery), graph
 * inputs, outputs, initializers and declared tensor types. Backends are given the named model's
 * bytes, so that node names agree everywhere.
 */
final class ModelGraph {
  private final Onnx.ModelProto proto;
  private final Path baseDir;
  private final String name;
  private final ImmutableList<Onnx.NodeProto> nodes;
  private final ImmutableMap<String, Onnx.NodeProto> producers;
  private final ImmutableMap<String, Onnx.NodeProto> byName;
  private final ImmutableMap<String, Onnx.TensorProto> initializers;
  private final ImmutableList<TensorInfo> inputs;
  private final ImmutableList<String> outputs;
  private final ImmutableMap<String, Integer> declaredTypes;
  private final ImmutableMap<String, List<String>> dimParams;
  private final ImmutableSet<String> unknownRank;
  private byte[] bytes;

  private ModelGraph(Onnx.ModelProto original, Path baseDir, String name) {
    this.baseDir = baseDir;
    this.name = name;
    Onnx.GraphProto g = original.getGraph();
    // Name unnamed nodes (position in the file) before sorting so names do not depend on the sort.
    List<Onnx.NodeProto> named = new ArrayList<>();
    Set<String> used = new HashSet<>();
    g.getNodeList().forEach(n -> used.add(n.getName()));
    for (int k = 0; k < g.getNodeCount(); k++) {
      Onnx.NodeProto n = g.getNode(k);
      if (n.getName().isEmpty()) {
        String candidate = n.getOpType() + "_" + k;
        while (used.contains(candidate)) {
          candidate = candidate + "_";
        }
        used.add(candidate);
        n = n.toBuilder().setName(candidate).build();
      }
      named.add(n);
    }
    Map<String, Onnx.TensorProto> inits = new LinkedHashMap<>();
    g.getInitializerList().forEach(t -> inits.put(t.getName(), t));
    this.initializers = ImmutableMap.copyOf(inits);
    this.nodes = ImmutableList.copyOf(topologicalOrder(named, name));
    this.proto = original.toBuilder().setGraph(g.toBuilder().clearNode().addAllNode(nodes)).build();
    Map<String, Onnx.NodeProto> prod = new HashMap<>();
    Map<String, Onnx.NodeProto> names = new LinkedHashMap<>();
    for (Onnx.NodeProto n : nodes) {
      if (names.put(n.getName(), n) != null) {
        throw new HalfBisectException(
            HalfBisectException.Kind.MODEL,
            name + ": two nodes are named '" + n.getName() + "'; node names must be unique");
      }
      for (String o : n.getOutputList()) {
        if (!o.isEmpty()) {
          prod.put(o, n);
        }
      }
    }
    this.producers = ImmutableMap.copyOf(prod);
    this.byName = ImmutableMap.copyOf(names);
    Map<String, Integer> types = new HashMap<>();
    for (Onnx.ValueInfoProto v : g.getValueInfoList()) {
      putType(types, v);
    }
    g.getInputList().forEach(v -> putType(types, v));
    g.getOutputList().forEach(v -> putType(types, v));
    inits.values().forEach(t -> types.put(t.getName(), t.getDataType()));
    this.declaredTypes = ImmutableMap.copyOf(types);
    ImmutableList.Builder<TensorInfo> in = ImmutableList.builder();
    Map<String, List<String>> params = new HashMap<>();
    Set<String> noShape = new HashSet<>();
    for (Onnx.ValueInfoProto v : g.getInputList()) {
      if (inits.containsKey(v.getName())) {
        continue;
      }
      Onnx.TypeProto.Tensor tt = v.getType().getTensorType();
      if (!tt.hasShape()) {
        noShape.add(v.getName());
      }
      long[] shape =
          tt.getShape().getDimList().stream()
              .mapToLong(d -> d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1)
              .toArray();
      in.add(new TensorInfo(v.getName(), DType.fromOnnxCode(tt.getElemType()), shape));
      params.put(
          v.getName(),
          tt.getShape().getDimList().stream()
              .map(d -> d.hasDimParam() ? d.getDimParam() : "")
              .collect(ImmutableList.toImmutableList()));
    }
    this.inputs = in.build();
    this.dimParams = ImmutableMap.copyOf(params);
    this.unknownRank = ImmutableSet.copyOf(noShape);
    this.outputs =
        g.getOutputList().stream()
            .map(Onnx.ValueInfoProto::getName)
            .collect(ImmutableList.toImmutableList());
  }

  private static void putType(Map<String, Integer> types, Onnx.ValueInfoProto v) {
    if (v.getType().hasTensorType() && v.getType().getTensorType().getElemType() != 0) {
      types.put(v.getName(), v.getType().getTensorType().getElemType());
    }
  }

  /** Reads an ONNX file; throws USAGE when it is missing and MODEL when it is not ONNX. */
  static ModelGraph load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw HalfBisectException.usage("model file not found: " + file);
    }
    OnnxModel m;
    try {
      m = OnnxModel.load(file);
    } catch (OnnxModelException e) {
      throw new HalfBisectException(HalfBisectException.Kind.MODEL, e.getMessage(), e);
    }
    return of(m.proto(), m.baseDir().orElse(null), file.getFileName().toString());
  }

  /**
   * Wraps a model held in memory; {@code baseDir} is where its external data lives (may be null).
   */
  static ModelGraph of(Onnx.ModelProto p, Path baseDir, String name) {
    if (!p.hasGraph() || p.getGraph().getNodeCount() == 0) {
      throw new HalfBisectException(
          HalfBisectException.Kind.MODEL, name + " is not an ONNX model with a graph (no nodes)");
    }
    if (p.getGraph().getOutputCount() == 0) {
      throw new HalfBisectException(
          HalfBisectException.Kind.MODEL, name + ": the graph has no outputs");
    }
    return new ModelGraph(p, baseDir, name);
  }

  private static List<Onnx.NodeProto> topologicalOrder(List<Onnx.NodeProto> in, String model) {
    Map<String, Integer> producerIndex = new HashMap<>();
    for (int i = 0; i < in.size(); i++) {
      for (String o : in.get(i).getOutputList()) {
        producerIndex.put(o, i);
      }
    }
    int[] pending = new int[in.size()];
    List<List<Integer>> dependents = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      dependents.add(new ArrayList<>());
    }
    for (int i = 0; i < in.size(); i++) {
      for (String t : in.get(i).getInputList()) {
        Integer p = producerIndex.get(t);
        if (p != null && p != i) {
          pending[i]++;
          dependents.get(p).add(i);
        }
      }
    }
    // Kahn's algorithm taking the lowest file position first keeps an already sorted file as it is.
    java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
    for (int i = 0; i < in.size(); i++) {
      if (pending[i] == 0) {
        ready.add(i);
      }
    }
    List<Onnx.NodeProto> out = new ArrayList<>();
    while (!ready.isEmpty()) {
      int i = ready.poll();
      out.add(in.get(i));
      for (int d : dependents.get(i)) {
        if (--pending[d] == 0) {
          ready.add(d);
        }
      }
    }
    if (out.size() != in.size()) {
      throw new HalfBisectException(
          HalfBisectException.Kind.MODEL, model + ": the graph has a cycle");
    }
    return out;
  }

  Onnx.ModelProto proto() {
    return proto;
  }

  String name() {
    return name;
  }

  Optional<Path> baseDir() {
    return Optional.ofNullable(baseDir);
  }

  List<Onnx.NodeProto> nodes() {
    return nodes;
  }

  List<TensorInfo> inputs() {
    return inputs;
  }

  /** Whether the input declares no shape at all (any rank accepted). */
  boolean hasUnknownRank(String input) {
    return unknownRank.contains(input);
  }

  /** Symbolic dim names of a graph input per axis ("" where none). */
  List<String> dimParams(String input) {
    return dimParams.getOrDefault(input, List.of());
  }

  List<String> outputs() {
    return outputs;
  }

  Map<String, Onnx.TensorProto> initializers() {
    return initializers;
  }

  Optional<Onnx.NodeProto> producer(String tensor) {
    return Optional.ofNullable(producers.get(tensor));
  }

  Optional<Onnx.NodeProto> node(String nodeName) {
    return Optional.ofNullable(byName.get(nodeName));
  }

  boolean hasTensor(String t) {
    return producers.containsKey(t)
        || initializers.containsKey(t)
        || inputs.stream().anyMatch(i -> i.name().equals(t));
  }

  /** Declared ONNX element type (0 when not declared). */
  int declaredType(String tensor) {
    return declaredTypes.getOrDefault(tensor, 0);
  }

  /** Outputs of all nodes, topological order, without graph outputs (those are always returned). */
  List<String> intermediateTensors() {
    Set<String> outs = new HashSet<>(outputs);
    List<String> r = new ArrayList<>();
    for (Onnx.NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        if (!o.isEmpty() && !outs.contains(o)) {
          r.add(o);
        }
      }
    }
    return r;
  }

  /** All node outputs in topological order, graph outputs included. */
  List<String> allNodeOutputs() {
    List<String> r = new ArrayList<>();
    for (Onnx.NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        if (!o.isEmpty()) {
          r.add(o);
        }
      }
    }
    return r;
  }

  /** Names of the nodes upstream of {@code tensor} (its producer included), nearest first. */
  Set<String> ancestors(String tensor) {
    Set<String> seen = new java.util.LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(tensor));
    while (!todo.isEmpty()) {
      Onnx.NodeProto p = producers.get(todo.poll());
      if (p != null && seen.add(p.getName())) {
        todo.addAll(p.getInputList());
      }
    }
    return seen;
  }

  /** The named model's serialized bytes (computed once). */
  synchronized byte[] bytes() {
    if (bytes == null) {
      bytes = proto.toByteArray();
    }
    return bytes;
  }

  ModelRef toModelRef() {
    return ModelRef.ofBytes(name, bytes(), baseDir);
  }

  /** A derived model (probe) with the same base folder. */
  ModelRef refOf(Onnx.ModelProto p, String probeName) {
    return ModelRef.ofBytes(name + "#" + probeName, p.toByteArray(), baseDir);
  }
}
