package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.hash.Hashing;
import dev.halfbisect.core.DType;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The read-only view of an ONNX graph that the searches need: nodes in topological order (unnamed
 * nodes named {@code <OpType>_<k>}), producers, consumers, graph inputs and outputs, initializers
 * and the element type of every tensor (from value_info, or inferred per op where absent).
 * It works on the ONNX protobuf directly so that bisect keeps a narrow dependency on onnx-surgery.
 */
public final class ModelGraph {
  private static final Set<String> INT64_OUT = Set.of("Shape", "Size", "ArgMax", "ArgMin", "NonZero", "NonMaxSuppression");
  private static final Set<String> BOOL_OUT = Set.of("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
      "Not", "And", "Or", "Xor", "IsNaN", "IsInf");

  private final Onnx.ModelProto proto;
  private final Path baseDir;
  private final String name;
  private final ImmutableList<Onnx.NodeProto> nodes;
  private final ImmutableMap<String, Integer> positionByNode;
  private final ImmutableMap<String, Integer> producerPosition;
  private final ImmutableMap<String, ImmutableList<Integer>> consumerPositions;
  private final ImmutableMap<String, Onnx.TensorProto> initializers;
  private final ImmutableList<String> graphInputs;
  private final ImmutableList<String> graphOutputs;
  private final ImmutableMap<String, DType> types;
  private String hash;

  private ModelGraph(Onnx.ModelProto proto, Path baseDir, String name) {
    this.name = name;
    this.baseDir = baseDir;
    Onnx.GraphProto g = proto.getGraph();
    Map<String, Onnx.TensorProto> inits = new LinkedHashMap<>();
    for (Onnx.TensorProto t : g.getInitializerList()) {
      inits.put(t.getName(), t);
    }
    this.initializers = ImmutableMap.copyOf(inits);
    List<String> ins = new ArrayList<>();
    for (Onnx.ValueInfoProto v : g.getInputList()) {
      if (!inits.containsKey(v.getName())) {
        ins.add(v.getName());
      }
    }
    this.graphInputs = ImmutableList.copyOf(ins);
    this.graphOutputs = g.getOutputList().stream().map(Onnx.ValueInfoProto::getName).collect(ImmutableList.toImmutableList());

    // Name unnamed nodes by their position in the file, then sort topologically (stable).
    List<Onnx.NodeProto> named = new ArrayList<>();
    Set<String> used = new HashSet<>();
    for (Onnx.NodeProto n : g.getNodeList()) {
      if (!n.getName().isEmpty()) {
        used.add(n.getName());
      }
    }
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
    this.nodes = topoSort(named, inits.keySet(), ins, name);
    Onnx.GraphProto sorted = g.toBuilder().clearNode().addAllNode(nodes).build();
    this.proto = proto.toBuilder().setGraph(sorted).build();

    Map<String, Integer> pos = new HashMap<>();
    Map<String, Integer> prod = new HashMap<>();
    Map<String, List<Integer>> cons = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      Onnx.NodeProto n = nodes.get(i);
      Preconditions.checkArgument(pos.put(n.getName(), i) == null,
          "model %s: two nodes are named '%s'", name, n.getName());
      for (String o : n.getOutputList()) {
        if (!o.isEmpty()) {
          prod.put(o, i);
        }
      }
      for (String in : n.getInputList()) {
        if (!in.isEmpty()) {
          cons.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
      }
    }
    this.positionByNode = ImmutableMap.copyOf(pos);
    this.producerPosition = ImmutableMap.copyOf(prod);
    ImmutableMap.Builder<String, ImmutableList<Integer>> cb = ImmutableMap.builder();
    cons.forEach((k, v) -> cb.put(k, ImmutableList.copyOf(new LinkedHashSet<>(v))));
    this.consumerPositions = cb.build();
    this.types = inferTypes(this.proto.getGraph(), nodes);
  }

  /**
   * Wraps an {@link OnnxModel} (its node names, external-data folder and name); element types come
   * from onnx-surgery's type inference where it knows them.
   */
  public static ModelGraph of(OnnxModel m) {
    ModelGraph g = new ModelGraph(m.proto(), m.baseDir().orElse(null), m.name());
    GraphIndex idx = m.index();
    Map<String, DType> merged = new HashMap<>(g.types);
    for (Onnx.NodeProto n : g.nodes) {
      for (String o : n.getOutputList()) {
        if (!o.isEmpty()) {
          idx.elementType(o).ifPresent(d -> merged.put(o, d));
        }
      }
    }
    return new ModelGraph(g, ImmutableMap.copyOf(merged));
  }

  private ModelGraph(ModelGraph g, ImmutableMap<String, DType> types) {
    this.proto = g.proto;
    this.baseDir = g.baseDir;
    this.name = g.name;
    this.nodes = g.nodes;
    this.positionByNode = g.positionByNode;
    this.producerPosition = g.producerPosition;
    this.consumerPositions = g.consumerPositions;
    this.initializers = g.initializers;
    this.graphInputs = g.graphInputs;
    this.graphOutputs = g.graphOutputs;
    this.types = types;
  }

  /** Wraps a model; {@code baseDir} is where external initializer data lives (may be null). */
  public static ModelGraph of(Onnx.ModelProto proto, Path baseDir, String name) {
    Preconditions.checkNotNull(proto, "proto");
    return new ModelGraph(proto, baseDir, name == null ? "model" : name);
  }

  private static ImmutableList<Onnx.NodeProto> topoSort(List<Onnx.NodeProto> in, Set<String> inits,
      List<String> inputs, String model) {
    Set<String> available = new HashSet<>(inits);
    available.addAll(inputs);
    available.add("");
    List<Onnx.NodeProto> pending = new ArrayList<>(in);
    List<Onnx.NodeProto> out = new ArrayList<>(in.size());
    Set<String> produced = new HashSet<>();
    for (Onnx.NodeProto n : in) {
      produced.addAll(n.getOutputList());
    }
    // Outer-scope or missing names (not produced by any node) are treated as available so that a
    // malformed model is reported by the backend, not as a false cycle here.
    while (!pending.isEmpty()) {
      List<Onnx.NodeProto> next = new ArrayList<>();
      boolean progress = false;
      for (Onnx.NodeProto n : pending) {
        boolean ready = true;
        for (String i : n.getInputList()) {
          if (!available.contains(i) && produced.contains(i)) {
            ready = false;
            break;
          }
        }
        if (ready) {
          out.add(n);
          available.addAll(n.getOutputList());
          progress = true;
        } else {
          next.add(n);
        }
      }
      if (!progress) {
        throw new IllegalArgumentException("model " + model + " has a cycle through node '"
            + next.get(0).getName() + "' (" + next.get(0).getOpType() + ")");
      }
      pending = next;
    }
    return ImmutableList.copyOf(out);
  }

  private static ImmutableMap<String, DType> inferTypes(Onnx.GraphProto g, List<Onnx.NodeProto> nodes) {
    Map<String, DType> t = new HashMap<>();
    for (Onnx.TensorProto i : g.getInitializerList()) {
      dtype(i.getDataType()).ifPresent(d -> t.put(i.getName(), d));
    }
    List<Onnx.ValueInfoProto> infos = new ArrayList<>(g.getInputList());
    infos.addAll(g.getValueInfoList());
    infos.addAll(g.getOutputList());
    for (Onnx.ValueInfoProto v : infos) {
      if (v.hasType() && v.getType().hasTensorType()) {
        dtype(v.getType().getTensorType().getElemType()).ifPresent(d -> t.put(v.getName(), d));
      }
    }
    for (Onnx.NodeProto n : nodes) {
      DType d = null;
      String op = n.getOpType();
      if (op.equals("Cast")) {
        d = attrInt(n, "to").flatMap(c -> dtype((int) (long) c)).orElse(null);
      } else if (INT64_OUT.contains(op)) {
        d = DType.INT64;
      } else if (BOOL_OUT.contains(op)) {
        d = DType.BOOL;
      } else if (op.equals("Constant")) {
        for (Onnx.AttributeProto a : n.getAttributeList()) {
          if (a.hasT()) {
            d = dtype(a.getT().getDataType()).orElse(null);
          } else if (a.getName().startsWith("value_int")) {
            d = DType.INT64;
          } else if (a.getName().startsWith("value_float")) {
            d = DType.FLOAT32;
          }
        }
      } else if (op.equals("ConstantOfShape")) {
        d = DType.FLOAT32;
        for (Onnx.AttributeProto a : n.getAttributeList()) {
          if (a.hasT()) {
            d = dtype(a.getT().getDataType()).orElse(d);
          }
        }
      } else if (op.equals("Where")) {
        d = n.getInputCount() > 1 ? t.get(n.getInput(1)) : null;
      } else {
        for (String in : n.getInputList()) {
          if (t.containsKey(in)) {
            d = t.get(in);
            break;
          }
        }
      }
      for (int k = 0; k < n.getOutputCount(); k++) {
        String o = n.getOutput(k);
        if (o.isEmpty() || t.containsKey(o) || d == null) {
          continue;
        }
        // Secondary outputs of these ops are indices, not values.
        if (k > 0 && (op.equals("TopK") || op.equals("MaxPool") || op.equals("Unique"))) {
          t.put(o, DType.INT64);
        } else {
          t.put(o, d);
        }
      }
    }
    return ImmutableMap.copyOf(t);
  }

  static Optional<Long> attrInt(Onnx.NodeProto n, String attr) {
    for (Onnx.AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(attr)) {
        return Optional.of(a.getI());
      }
    }
    return Optional.empty();
  }

  private static Optional<DType> dtype(int code) {
    try {
      return Optional.of(DType.fromOnnxCode(code));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  public Onnx.ModelProto proto() {
    return proto;
  }

  public Optional<Path> baseDir() {
    return Optional.ofNullable(baseDir);
  }

  public String name() {
    return name;
  }

  /** Nodes in topological order. */
  public ImmutableList<Onnx.NodeProto> nodes() {
    return nodes;
  }

  public int topoPosition(String nodeName) {
    Integer p = positionByNode.get(nodeName);
    if (p == null) {
      throw new IllegalArgumentException("model " + name + " has no node named '" + nodeName + "'");
    }
    return p;
  }

  public Onnx.NodeProto node(String nodeName) {
    return nodes.get(topoPosition(nodeName));
  }

  public boolean hasNode(String nodeName) {
    return positionByNode.containsKey(nodeName);
  }

  public Optional<Onnx.NodeProto> producer(String tensor) {
    Integer p = producerPosition.get(tensor);
    return p == null ? Optional.empty() : Optional.of(nodes.get(p));
  }

  public List<Onnx.NodeProto> consumers(String tensor) {
    ImmutableList<Integer> c = consumerPositions.get(tensor);
    if (c == null) {
      return ImmutableList.of();
    }
    return c.stream().map(nodes::get).collect(ImmutableList.toImmutableList());
  }

  public boolean isInitializer(String tensor) {
    return initializers.containsKey(tensor);
  }

  public Optional<Onnx.TensorProto> initializer(String tensor) {
    return Optional.ofNullable(initializers.get(tensor));
  }

  public ImmutableList<String> graphInputs() {
    return graphInputs;
  }

  public ImmutableList<String> graphOutputs() {
    return graphOutputs;
  }

  public Optional<DType> elementType(String tensor) {
    return Optional.ofNullable(types.get(tensor));
  }

  public boolean isFloat(String tensor) {
    DType d = types.get(tensor);
    return d != null && d.isFloatingPoint();
  }

  /** Outputs of nodes whose element type is floating point, in topological order. */
  public ImmutableList<String> floatTensors() {
    ImmutableList.Builder<String> b = ImmutableList.builder();
    for (Onnx.NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        if (!o.isEmpty() && isFloat(o)) {
          b.add(o);
        }
      }
    }
    return b.build();
  }

  /** Nodes with at least one float output: the nodes a precision plan can move, topological order. */
  public ImmutableList<String> floatNodes() {
    ImmutableList.Builder<String> b = ImmutableList.builder();
    for (Onnx.NodeProto n : nodes) {
      if (n.getOutputList().stream().anyMatch(o -> !o.isEmpty() && isFloat(o))) {
        b.add(n.getName());
      }
    }
    return b.build();
  }

  /** The node producing {@code tensor}, or throws naming the tensor. */
  public Onnx.NodeProto requireProducer(String tensor) {
    return producer(tensor).orElseThrow(() -> new IllegalArgumentException(
        "model " + name + ": tensor '" + tensor + "' is not produced by any node"));
  }

  /** Positions of all nodes {@code tensor} depends on (including its producer), ascending. */
  public ImmutableSet<Integer> ancestorPositions(String tensor) {
    Set<Integer> seen = new HashSet<>();
    Deque<String> work = new ArrayDeque<>();
    work.add(tensor);
    while (!work.isEmpty()) {
      Integer p = producerPosition.get(work.pop());
      if (p != null && seen.add(p)) {
        for (String in : nodes.get(p).getInputList()) {
          work.add(in);
        }
        for (Onnx.AttributeProto a : nodes.get(p).getAttributeList()) {
          if (a.hasG()) {
            work.addAll(outerNames(a.getG()));
          }
          for (Onnx.GraphProto sub : a.getGraphsList()) {
            work.addAll(outerNames(sub));
          }
        }
      }
    }
    return ImmutableSet.copyOf(seen.stream().sorted().toList());
  }

  /** Names a subgraph reads that it neither declares nor produces (outer-scope captures). */
  static Set<String> outerNames(Onnx.GraphProto g) {
    Set<String> local = new HashSet<>();
    g.getInputList().forEach(v -> local.add(v.getName()));
    g.getInitializerList().forEach(t -> local.add(t.getName()));
    Set<String> reads = new HashSet<>();
    for (Onnx.NodeProto n : g.getNodeList()) {
      local.addAll(n.getOutputList());
    }
    for (Onnx.NodeProto n : g.getNodeList()) {
      reads.addAll(n.getInputList());
      for (Onnx.AttributeProto a : n.getAttributeList()) {
        if (a.hasG()) {
          reads.addAll(outerNames(a.getG()));
        }
      }
    }
    for (Onnx.ValueInfoProto o : g.getOutputList()) {
      reads.add(o.getName());
    }
    reads.removeAll(local);
    reads.remove("");
    return reads;
  }

  /** Whether the node carries a subgraph (If, Loop, Scan). */
  static boolean hasSubgraph(Onnx.NodeProto n) {
    return n.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0);
  }

  /** A stable SHA-256 of the (sorted, named) model, used in probe keys. */
  public synchronized String hash() {
    if (hash == null) {
      hash = Hashing.sha256().hashBytes(proto.toByteArray()).toString().substring(0, 16);
    }
    return hash;
  }

  @Override
  public String toString() {
    return name + " (" + nodes.size() + " nodes)";
  }
}
