package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import com.google.common.hash.Hashing;
import com.google.common.math.LongMath;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.TensorData;
import dev.halfbisect.onnx.TrtParseFolding;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The read-only view of an ONNX graph that the searches need, over onnx-surgery's {@link OnnxModel}
 * and {@link GraphIndex}: nodes in topological order (unnamed nodes named as {@link OnnxModel}
 * names them), producers, consumers, graph inputs and outputs, initializers and element types.
 * {@link #proto()} is the model with its nodes stored in that topological order, so probe subgraphs
 * cut from it are sorted too.
 */
public final class ModelGraph {
  private final OnnxModel model;
  private final GraphIndex index;
  private final ImmutableList<Onnx.NodeProto> nodes;
  private final ImmutableList<String> graphInputs;
  private final ImmutableList<String> graphOutputs;
  private String hash;
  private ImmutableSet<String> constants;
  private ImmutableSet<String> folded;
  private ImmutableSet<String> saturating;

  private ModelGraph(OnnxModel model) {
    GraphIndex unsorted = model.index();
    // Store the nodes in topological order; the index of a sorted graph keeps that order.
    OnnxModel sorted =
        model.withGraph(model.graph().toBuilder().clearNode().addAllNode(unsorted.nodes()).build());
    this.model = sorted;
    this.index = sorted.index();
    this.nodes = ImmutableList.copyOf(index.nodes());
    this.graphInputs = ImmutableList.copyOf(index.graphInputs());
    this.graphOutputs = ImmutableList.copyOf(index.graphOutputs());
  }

  /** Wraps an {@link OnnxModel} (its node names, external-data folder, name and type inference). */
  public static ModelGraph of(OnnxModel m) {
    Preconditions.checkNotNull(m, "model");
    return new ModelGraph(m);
  }

  /** Wraps a model; {@code baseDir} is where external initializer data lives (may be null). */
  public static ModelGraph of(Onnx.ModelProto proto, Path baseDir, String name) {
    Preconditions.checkNotNull(proto, "proto");
    return new ModelGraph(OnnxModel.of(proto, baseDir, name == null ? "model" : name));
  }

  /** The onnx-surgery model this view wraps (nodes in topological order). */
  public OnnxModel model() {
    return model;
  }

  public Onnx.ModelProto proto() {
    return model.proto();
  }

  public Optional<Path> baseDir() {
    return model.baseDir();
  }

  public String name() {
    return model.name();
  }

  /** Nodes in topological order. */
  public ImmutableList<Onnx.NodeProto> nodes() {
    return nodes;
  }

  public int topoPosition(String nodeName) {
    return index.topoPosition(nodeName);
  }

  public Onnx.NodeProto node(String nodeName) {
    return index.node(nodeName);
  }

  public boolean hasNode(String nodeName) {
    return index.hasNode(nodeName);
  }

  public Optional<Onnx.NodeProto> producer(String tensor) {
    return index.producer(tensor);
  }

  /** Nodes reading {@code tensor} (also from inside their subgraphs), topological order. */
  public List<Onnx.NodeProto> consumers(String tensor) {
    return index.consumers(tensor);
  }

  /**
   * The tensors {@code node} reads: its non-empty inputs, then outer-scope names of its subgraphs.
   */
  public List<String> nodeInputs(Onnx.NodeProto node) {
    return index.nodeInputs(node);
  }

  public boolean isInitializer(String tensor) {
    return index.isInitializer(tensor);
  }

  public Optional<Onnx.TensorProto> initializer(String tensor) {
    return index.initializer(tensor);
  }

  /** The values of initializer {@code tensor}, external data read from the model's folder. */
  public Optional<Tensor> initializerValues(String tensor) {
    return index.initializer(tensor).map(t -> TensorData.toTensor(t, model.baseDir().orElse(null)));
  }

  public ImmutableList<String> graphInputs() {
    return graphInputs;
  }

  public ImmutableList<String> graphOutputs() {
    return graphOutputs;
  }

  /**
   * Symbolic dim names of graph input {@code input} as declared, one per axis ("" where an axis has
   * none, e.g. a static dim); empty when the input declares no shape or the graph has no such
   * input.
   */
  public ImmutableList<String> inputDimNames(String input) {
    for (Onnx.ValueInfoProto v : model.graph().getInputList()) {
      if (v.getName().equals(input)) {
        return v.getType().getTensorType().getShape().getDimList().stream()
            .map(d -> d.hasDimParam() ? d.getDimParam() : "")
            .collect(ImmutableList.toImmutableList());
      }
    }
    return ImmutableList.of();
  }

  public Optional<DType> elementType(String tensor) {
    return index.elementType(tensor);
  }

  /** Known static shape (-1 for unknown or symbolic dims); empty when even the rank is unknown. */
  public Optional<long[]> shape(String tensor) {
    return index.shape(tensor);
  }

  /** Number of elements of {@code tensor} when its shape is fully static; empty otherwise. */
  public OptionalLong elementCount(String tensor) {
    return elementCount(index.shape(tensor));
  }

  /** Number of elements of a fully static shape (saturating at Long.MAX_VALUE); empty otherwise. */
  static OptionalLong elementCount(Optional<long[]> shape) {
    if (shape.isEmpty()) {
      return OptionalLong.empty();
    }
    long n = 1;
    for (long d : shape.get()) {
      if (d < 0) {
        return OptionalLong.empty();
      }
      n = LongMath.saturatedMultiply(n, d);
    }
    return OptionalLong.of(n);
  }

  public boolean isFloat(String tensor) {
    return index.elementType(tensor).map(DType::isFloatingPoint).orElse(false);
  }

  /** Outputs of nodes whose element type is floating point, in topological order. */
  public ImmutableList<String> floatTensors() {
    return ImmutableList.copyOf(index.floatTensors());
  }

  /**
   * Nodes with at least one float output: the nodes a precision plan can move, topological order.
   */
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
    return producer(tensor)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "model " + name() + ": tensor '" + tensor + "' is not produced by any node"));
  }

  /** Positions of all nodes {@code tensor} depends on (including its producer), ascending. */
  public ImmutableSet<Integer> ancestorPositions(String tensor) {
    Set<Integer> seen = new HashSet<>();
    Deque<String> work = new ArrayDeque<>();
    work.add(tensor);
    while (!work.isEmpty()) {
      Optional<Onnx.NodeProto> p = index.producer(work.pop());
      if (p.isPresent() && seen.add(index.topoPosition(p.get().getName()))) {
        work.addAll(index.nodeInputs(p.get()));
      }
    }
    return ImmutableSet.copyOf(seen.stream().sorted().toList());
  }

  /**
   * Node outputs computed only from Constant nodes and initializers (constant-foldable),
   * topological order. Their FP16 error is a representation limit of the value, not a computation
   * error; random generators (inputs-free but not constant) are excluded.
   */
  public synchronized ImmutableSet<String> constantTensors() {
    if (constants == null) {
      Set<String> c = new java.util.LinkedHashSet<>();
      for (Onnx.NodeProto n : nodes) {
        if (n.getOpType().startsWith("Random") || hasSubgraph(n)) {
          continue;
        }
        if (index.nodeInputs(n).stream()
            .allMatch(in -> index.isInitializer(in) || c.contains(in))) {
          n.getOutputList().stream().filter(o -> !o.isEmpty()).forEach(c::add);
        }
      }
      constants = ImmutableSet.copyOf(c);
    }
    return constants;
  }

  /**
   * Whether {@code tensor} is a node output computed only from constants (see {@link
   * #constantTensors()}).
   */
  public boolean isConstant(String tensor) {
    return constantTensors().contains(tensor);
  }

  /**
   * Nodes TensorRT folds away at parse time (onnx-surgery {@link TrtParseFolding#foldedNodes}):
   * BatchNormalizations fused into their Conv and the compute nodes of constant subgraphs, plus the
   * Constant nodes themselves. Pinning one changes nothing, so no search proposes them (issue 15).
   */
  public synchronized ImmutableSet<String> foldedNodes() {
    if (folded == null) {
      ImmutableSet.Builder<String> b = ImmutableSet.builder();
      b.addAll(TrtParseFolding.foldedNodes(model));
      nodes.stream().filter(n -> n.getOpType().equals("Constant")).forEach(n -> b.add(n.getName()));
      folded = b.build();
    }
    return folded;
  }

  /**
   * Float tensors that carry a constant TensorRT clamps to +-65504 (onnx-surgery {@link
   * TrtParseFolding#saturatingTensors}), such as an attention mask computed from -3.4e38.
   */
  public synchronized ImmutableSet<String> saturatingTensors() {
    if (saturating == null) {
      saturating = TrtParseFolding.saturatingTensors(model);
    }
    return saturating;
  }

  /** Whether TensorRT folds {@code node} away at parse time (see {@link #foldedNodes()}). */
  public boolean isFoldedByTensorRt(String node) {
    return foldedNodes().contains(node);
  }

  /** Whether the node carries a subgraph (If, Loop, Scan). */
  static boolean hasSubgraph(Onnx.NodeProto n) {
    return n.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0);
  }

  /** A stable SHA-256 of the (sorted, named) model, used in probe keys. */
  public synchronized String hash() {
    if (hash == null) {
      hash = Hashing.sha256().hashBytes(proto().toByteArray()).toString().substring(0, 16);
    }
    return hash;
  }

  @Override
  public String toString() {
    return name() + " (" + nodes.size() + " nodes)";
  }
}
