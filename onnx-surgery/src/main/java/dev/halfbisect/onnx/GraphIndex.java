package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.DType;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Read-only index of a model's main graph: nodes in topological order, producers and consumers of
 * every value, initializers, graph inputs and outputs, and the element type and (where known) shape
 * of every value. Built in time linear in the graph size (plus a log factor for the stable sort).
 *
 * <p>Control-flow nodes (If, Loop, Scan) are single nodes; names their subgraphs read from the
 * enclosing graph count as inputs of the node (see {@link #nodeInputs}).
 *
 * <p>Building the index checks the graph: two nodes producing one value, a node output that shadows
 * a graph input or initializer, inputs nothing provides, graph outputs nothing provides and unknown
 * element type numbers are {@link MalformedModelException}s; cycles are {@link
 * GraphCycleException}s.
 */
public final class GraphIndex {
  private final String modelName;
  private final List<Onnx.NodeProto> nodes;
  private final Map<String, Integer> topoPosition;
  private final Map<String, Onnx.NodeProto> producer;
  private final Map<String, List<Onnx.NodeProto>> consumers;
  private final Map<String, Onnx.TensorProto> initializers;
  private final List<String> graphInputs;
  private final Set<String> graphInputSet;
  private final List<String> graphOutputs;
  private final Map<String, List<String>> nodeInputs;
  private final Map<String, Onnx.TypeProto> declaredTypes;
  private final ValueInference values;

  private GraphIndex(Builder b) {
    this.modelName = b.modelName;
    this.nodes = Collections.unmodifiableList(b.sorted);
    this.topoPosition = b.topoPosition;
    this.producer = b.producer;
    this.consumers = b.consumers;
    this.initializers = b.initializers;
    this.graphInputs = List.copyOf(b.graphInputs);
    this.graphInputSet = Set.copyOf(b.graphInputs);
    this.graphOutputs = List.copyOf(b.graphOutputs);
    this.nodeInputs = b.nodeInputs;
    this.declaredTypes = b.declaredTypes;
    this.values = b.values;
  }

  /**
   * Indexes and checks the model's main graph (prefer {@link OnnxModel#index()}, which caches it).
   *
   * @throws MalformedModelException, GraphCycleException as described in the class comment
   */
  public static GraphIndex of(OnnxModel m) {
    Preconditions.checkNotNull(m, "model");
    return new GraphIndex(new Builder(m.name(), m.graph()).build());
  }

  /** Nodes in topological order (stable: a sorted graph keeps its order). */
  public List<Onnx.NodeProto> nodes() {
    return nodes;
  }

  /** Position of the node in {@link #nodes()}. */
  public int topoPosition(String nodeName) {
    Integer p = topoPosition.get(nodeName);
    if (p == null) {
      throw UnknownNameException.of("node", nodeName, topoPosition.keySet());
    }
    return p;
  }

  /** The node of that name. */
  public Onnx.NodeProto node(String nodeName) {
    return nodes.get(topoPosition(nodeName));
  }

  public boolean hasNode(String nodeName) {
    return topoPosition.containsKey(nodeName);
  }

  /**
   * The node that computes {@code tensor}; empty for initializers, graph inputs and unknown names.
   */
  public Optional<Onnx.NodeProto> producer(String tensor) {
    return Optional.ofNullable(producer.get(tensor));
  }

  /**
   * Nodes reading {@code tensor} (also from inside their subgraphs), topological order, each once.
   */
  public List<Onnx.NodeProto> consumers(String tensor) {
    List<Onnx.NodeProto> c = consumers.get(tensor);
    return c == null ? List.of() : Collections.unmodifiableList(c);
  }

  public boolean isInitializer(String tensor) {
    return initializers.containsKey(tensor);
  }

  public Optional<Onnx.TensorProto> initializer(String name) {
    return Optional.ofNullable(initializers.get(name));
  }

  /** Graph inputs that are real inputs (initializers listed as inputs, as IR < 4 did, excluded). */
  public List<String> graphInputs() {
    return graphInputs;
  }

  public List<String> graphOutputs() {
    return graphOutputs;
  }

  /** Whether a node output, initializer or graph input has this name. */
  public boolean hasValue(String tensor) {
    return producer.containsKey(tensor)
        || initializers.containsKey(tensor)
        || graphInputSet.contains(tensor);
  }

  /** Every value name: graph inputs, initializers and node outputs (for suggestions and checks). */
  public Set<String> valueNames() {
    Set<String> all = new LinkedHashSet<>(graphInputs);
    all.addAll(initializers.keySet());
    all.addAll(producer.keySet());
    return all;
  }

  /**
   * The tensors {@code node} reads: its non-empty inputs, then outer-scope names its subgraphs use,
   * each once.
   */
  public List<String> nodeInputs(Onnx.NodeProto node) {
    List<String> in = nodeInputs.get(node.getName());
    if (in == null) {
      throw UnknownNameException.of("node", node.getName(), topoPosition.keySet());
    }
    return in;
  }

  /** Inferred element type; empty when unknown or a type core has no {@link DType} for. */
  public Optional<DType> elementType(String tensor) {
    OptionalInt code = elementTypeCode(tensor);
    return code.isPresent()
        ? Optional.ofNullable(DType.fromOnnxCode(code.getAsInt()))
        : Optional.empty();
  }

  /** Inferred ONNX element type number (any ONNX type, strings included); empty when unknown. */
  public OptionalInt elementTypeCode(String tensor) {
    return values.elementType(tensor);
  }

  /** Known shape (-1 for unknown or symbolic dims); empty when even the rank is unknown. */
  public Optional<long[]> shape(String tensor) {
    return values.shape(tensor);
  }

  /**
   * A value info declaring {@code tensor} with its element type and known shape, suitable as a
   * graph input or output. Declared types (with their symbolic dim names) are reused as they are.
   *
   * @throws UnknownNameException when the graph has no such value
   * @throws MalformedModelException when its element type cannot be inferred
   */
  public Onnx.ValueInfoProto valueInfo(String tensor) {
    if (!hasValue(tensor)) {
      throw UnknownNameException.of("tensor", tensor, valueNames());
    }
    Onnx.TypeProto declared = declaredTypes.get(tensor);
    long[] s = values.rawShape(tensor);
    if (declared != null
        && declared.hasTensorType()
        && declared.getTensorType().getElemType() != 0) {
      if (!declared.getTensorType().hasShape() && s != null) {
        declared =
            declared.toBuilder()
                .setTensorType(
                    declared.getTensorType().toBuilder().setShape(ValueInference.shapeProto(s)))
                .build(); // declared type without shape: add the inferred one, checkers need it
      }
      return Onnx.ValueInfoProto.newBuilder().setName(tensor).setType(declared).build();
    }
    if (elementTypeCode(tensor).isEmpty()) {
      Onnx.NodeProto p = producer.get(tensor);
      throw new MalformedModelException(
          "model "
              + modelName
              + ": cannot infer the element type of tensor '"
              + tensor
              + "'"
              + (p != null ? " (output of " + p.getOpType() + " node '" + p.getName() + "')" : "")
              + "; add a value_info for it");
    }
    return values.valueInfo(tensor);
  }

  /**
   * Outputs of nodes whose element type is float32, float16, bfloat16 or float64, in topological
   * order: the tensors a layerwise comparison can observe.
   */
  public List<String> floatTensors() {
    List<String> out = new ArrayList<>();
    for (Onnx.NodeProto n : nodes) {
      for (String o : n.getOutputList()) {
        if (!o.isEmpty()) {
          Integer t = values.rawType(o);
          if (t != null && ElementTypes.isFloat(t)) {
            out.add(o);
          }
        }
      }
    }
    return out;
  }

  String modelName() {
    return modelName;
  }

  /** Mutable state of one index build; discarded afterwards. */
  private static final class Builder {
    final String modelName;
    final Onnx.GraphProto g;
    final int n;
    final Map<String, Onnx.TensorProto> initializers = new HashMap<>();
    final List<String> graphInputs = new ArrayList<>();
    final Set<String> graphInputSet = new HashSet<>();
    final List<String> graphOutputs = new ArrayList<>();
    final Map<String, Onnx.NodeProto> producer;
    final Map<String, Integer> producerIndex;
    final Map<String, List<Onnx.NodeProto>> consumers;
    final Map<String, List<String>> nodeInputs;
    final Map<String, Integer> topoPosition;
    final Map<String, Onnx.TypeProto> declaredTypes = new HashMap<>();
    final ValueInference values;
    List<Onnx.NodeProto> sorted;

    Builder(String modelName, Onnx.GraphProto g) {
      this.modelName = modelName;
      this.g = g;
      this.n = g.getNodeCount();
      int cap = Math.max(16, n * 2);
      producer = new HashMap<>(cap);
      producerIndex = new HashMap<>(cap);
      consumers = new HashMap<>(cap);
      nodeInputs = new HashMap<>(cap);
      topoPosition = new HashMap<>(cap);
      values = new ValueInference(cap);
    }

    Builder build() {
      indexInitializersAndIo();
      indexProducers();
      List<List<String>> inputsByIndex = resolveInputs();
      sort(inputsByIndex);
      indexConsumers();
      checkOutputs();
      inferTypes();
      return this;
    }

    private String where() {
      return "model " + modelName + ": ";
    }

    private void indexInitializersAndIo() {
      for (Onnx.TensorProto t : g.getInitializerList()) {
        if (initializers.putIfAbsent(t.getName(), t) != null) {
          throw new MalformedModelException(
              where() + "two initializers are named '" + t.getName() + "'");
        }
        checkKnownType(t.getName(), t.getDataType(), "initializer");
        values.initializer(t);
      }
      for (Onnx.ValueInfoProto v : g.getInputList()) {
        if (!graphInputSet.add(v.getName())) {
          throw new MalformedModelException(
              where() + "graph input '" + v.getName() + "' is declared twice");
        }
        if (!initializers.containsKey(v.getName())) {
          graphInputs.add(v.getName());
        }
        declare(v, "graph input");
      }
      for (Onnx.ValueInfoProto v : g.getOutputList()) {
        graphOutputs.add(v.getName());
        declare(v, "graph output");
      }
      for (Onnx.ValueInfoProto v : g.getValueInfoList()) {
        declare(v, "value_info");
      }
    }

    private void declare(Onnx.ValueInfoProto v, String what) {
      if (!v.hasType()) {
        return;
      }
      declaredTypes.putIfAbsent(v.getName(), v.getType());
      if (!v.getType().hasTensorType()) {
        return;
      }
      Onnx.TypeProto.Tensor tt = v.getType().getTensorType();
      checkKnownType(v.getName(), tt.getElemType(), what);
      long[] s = null;
      if (tt.hasShape()) {
        s = new long[tt.getShape().getDimCount()];
        for (int i = 0; i < s.length; i++) {
          Onnx.TensorShapeProto.Dimension d = tt.getShape().getDim(i);
          s[i] = d.hasDimValue() && d.getDimValue() >= 0 ? d.getDimValue() : -1;
        }
      }
      values.declare(v.getName(), tt.getElemType(), s);
    }

    private void checkKnownType(String tensor, int code, String what) {
      if (!ElementTypes.isKnown(code)) {
        throw new MalformedModelException(
            where()
                + what
                + " '"
                + tensor
                + "' has unknown element type "
                + code
                + " (ONNX defines 0-26)");
      }
    }

    private void indexProducers() {
      for (int i = 0; i < n; i++) {
        Onnx.NodeProto node = g.getNode(i);
        for (String o : node.getOutputList()) {
          if (o.isEmpty()) {
            continue;
          }
          Integer prev = producerIndex.putIfAbsent(o, i);
          if (prev != null) {
            throw new MalformedModelException(
                where()
                    + "tensor '"
                    + o
                    + "' is produced by two nodes: '"
                    + g.getNode(prev).getName()
                    + "' ("
                    + g.getNode(prev).getOpType()
                    + ") and '"
                    + node.getName()
                    + "' ("
                    + node.getOpType()
                    + ")");
          }
          if (initializers.containsKey(o) || graphInputSet.contains(o)) {
            throw new MalformedModelException(
                where()
                    + "node '"
                    + node.getName()
                    + "' produces '"
                    + o
                    + "', which is already a graph "
                    + (initializers.containsKey(o) ? "initializer" : "input"));
          }
          producer.put(o, node);
        }
      }
    }

    private boolean provided(String t) {
      return producerIndex.containsKey(t)
          || initializers.containsKey(t)
          || graphInputSet.contains(t);
    }

    /** Explicit plus implicit (subgraph outer-scope) inputs of every node; dangling ones fail. */
    private List<List<String>> resolveInputs() {
      List<List<String>> all = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Onnx.NodeProto node = g.getNode(i);
        List<String> in = new ArrayList<>(node.getInputCount());
        for (String s : node.getInputList()) {
          if (!s.isEmpty() && !in.contains(s)) {
            in.add(s);
          }
        }
        if (Subgraphs.hasSubgraphs(node)) {
          for (String s : Subgraphs.outerReferences(node)) {
            if (!in.contains(s)) {
              in.add(s);
            }
          }
        }
        for (String s : in) {
          if (!provided(s)) {
            throw new MalformedModelException(
                where()
                    + "node '"
                    + node.getName()
                    + "' ("
                    + node.getOpType()
                    + ") reads tensor '"
                    + s
                    + "', which no node, initializer or graph input provides");
          }
        }
        List<String> frozen = List.copyOf(in);
        all.add(frozen);
        nodeInputs.put(node.getName(), frozen);
      }
      return all;
    }

    /** Kahn's algorithm, always taking the ready node that came first in the file. */
    private void sort(List<List<String>> inputsByIndex) {
      if (alreadySorted(inputsByIndex)) {
        List<Onnx.NodeProto> out = new ArrayList<>(g.getNodeList());
        for (int i = 0; i < n; i++) {
          topoPosition.put(out.get(i).getName(), i);
        }
        sorted = out;
        return;
      }
      int[] indegree = new int[n];
      int[][] successors = new int[n][];
      int[] succCount = new int[n];
      for (int i = 0; i < n; i++) {
        for (String s : inputsByIndex.get(i)) {
          Integer p = producerIndex.get(s);
          if (p != null) {
            indegree[i]++;
            succCount[p]++;
          }
        }
      }
      for (int i = 0; i < n; i++) {
        successors[i] = new int[succCount[i]];
        succCount[i] = 0;
      }
      for (int i = 0; i < n; i++) {
        for (String s : inputsByIndex.get(i)) {
          Integer p = producerIndex.get(s);
          if (p != null) {
            successors[p][succCount[p]++] = i;
          }
        }
      }
      PriorityQueue<Integer> ready = new PriorityQueue<>();
      for (int i = 0; i < n; i++) {
        if (indegree[i] == 0) {
          ready.add(i);
        }
      }
      List<Onnx.NodeProto> out = new ArrayList<>(n);
      while (!ready.isEmpty()) {
        int i = ready.poll();
        topoPosition.put(g.getNode(i).getName(), out.size());
        out.add(g.getNode(i));
        for (int s : successors[i]) {
          if (--indegree[s] == 0) {
            ready.add(s);
          }
        }
      }
      if (out.size() < n) {
        throw cycleError(indegree, inputsByIndex);
      }
      sorted = out;
    }

    /** Whether every producer comes before its consumers already (the usual case, and O(edges)). */
    private boolean alreadySorted(List<List<String>> inputsByIndex) {
      for (int i = 0; i < n; i++) {
        for (String s : inputsByIndex.get(i)) {
          Integer p = producerIndex.get(s);
          if (p != null && p >= i) {
            return false;
          }
        }
      }
      return true;
    }

    private GraphCycleException cycleError(int[] indegree, List<List<String>> inputsByIndex) {
      int stuck = 0;
      int start = -1;
      for (int i = 0; i < n; i++) {
        if (indegree[i] > 0) {
          stuck++;
          if (start < 0) {
            start = i;
          }
        }
      }
      // Every stuck node has a stuck predecessor: walk predecessors until a node repeats.
      Map<Integer, Integer> seenAt = new HashMap<>();
      List<Integer> path = new ArrayList<>();
      int cur = start;
      while (!seenAt.containsKey(cur)) {
        seenAt.put(cur, path.size());
        path.add(cur);
        int next = -1;
        for (String s : inputsByIndex.get(cur)) {
          Integer p = producerIndex.get(s);
          if (p != null && indegree[p] > 0) {
            next = p;
            break;
          }
        }
        cur = next;
      }
      List<Integer> cycle = new ArrayList<>(path.subList(seenAt.get(cur), path.size()));
      Collections.reverse(cycle); // data-flow order
      List<String> names = new ArrayList<>();
      for (int i : cycle) {
        names.add(g.getNode(i).getName());
      }
      String shown =
          names.size() > 20
              ? String.join(" -> ", names.subList(0, 20)) + " -> ..."
              : String.join(" -> ", names) + " -> " + names.get(0);
      return new GraphCycleException(
          where()
              + "the graph has a cycle through "
              + names.size()
              + " nodes: "
              + shown
              + " ("
              + stuck
              + " nodes cannot be ordered)");
    }

    private void indexConsumers() {
      for (Onnx.NodeProto node : sorted) {
        for (String s : nodeInputs.get(node.getName())) {
          consumers.computeIfAbsent(s, k -> new ArrayList<>(2)).add(node);
        }
      }
    }

    private void checkOutputs() {
      for (String o : graphOutputs) {
        if (!provided(o)) {
          throw new MalformedModelException(
              where()
                  + "graph output '"
                  + o
                  + "' is produced by no node, initializer or graph input");
        }
      }
    }

    private void inferTypes() {
      for (Onnx.NodeProto node : sorted) {
        values.node(node);
        for (String o : node.getOutputList()) {
          int t = values.elementType(o).orElse(ElementTypes.UNDEFINED);
          if (!ElementTypes.isKnown(t)) { // e.g. a Cast to a type number ONNX does not define
            checkKnownType(o, t, node.getOpType() + " node '" + node.getName() + "' output");
          }
        }
      }
    }
  }
}
