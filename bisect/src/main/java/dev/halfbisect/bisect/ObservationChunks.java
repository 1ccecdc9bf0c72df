package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.math.LongMath;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.OnnxModelException;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits what one build observes into chunks by estimated memory, within an {@link
 * ObservationBudget}: each chunk's observed tensors together hold at most its {@code chunkBytes}
 * (float32 bytes over all samples), and at most {@code maxChunkTensors} tensors. A tensor's size
 * comes from the static shape the graph index infers; a tensor of unknown size counts as {@code
 * chunkBytes / chunkSize}, so models with symbolic shapes are chunked by count as before. A single
 * tensor larger than the budget gets a chunk of its own. Chunks keep the input order. Where graph
 * inputs have symbolic dimensions, the shapes are inferred again with the samples' input shapes, so
 * a model exported with a dynamic batch axis is still chunked by bytes.
 */
final class ObservationChunks {
  private static final Logger LOG = LoggerFactory.getLogger(ObservationChunks.class);

  private final ModelGraph graph;
  private final Function<String, OptionalLong> elementCount;
  private final ObservationBudget budget;
  private final int samples;

  private ObservationChunks(
      ModelGraph graph,
      Function<String, OptionalLong> elementCount,
      ObservationBudget budget,
      int samples) {
    Preconditions.checkArgument(samples >= 1, "samples must be >= 1, got %s", samples);
    this.graph = Preconditions.checkNotNull(graph, "graph");
    this.elementCount = Preconditions.checkNotNull(elementCount, "elementCount");
    this.budget = Preconditions.checkNotNull(budget, "budget");
    this.samples = samples;
  }

  /**
   * The chunking of {@code budget} for {@code samples}, with the shapes specialised to the samples'
   * input shapes.
   */
  static ObservationChunks of(
      ModelGraph graph, List<? extends Map<String, Tensor>> samples, ObservationBudget budget) {
    return new ObservationChunks(graph, elementCounts(graph, samples), budget, samples.size());
  }

  /**
   * @param chunkBytes byte budget per build
   * @param maxTensors hard cap on tensors per build
   * @param chunkSize tensors per build when sizes are unknown
   * @param samples input samples each build runs (a tensor is held once per sample)
   */
  static ObservationChunks of(
      ModelGraph graph, long chunkBytes, int maxTensors, int chunkSize, int samples) {
    ObservationBudget budget = new ObservationBudget(chunkBytes, chunkSize, maxTensors, 0);
    return new ObservationChunks(graph, graph::elementCount, budget, samples);
  }

  /**
   * Element counts of the graph's tensors; where a graph input's declared shape is not static but
   * every sample gives it the same concrete shape, the shapes are inferred again on a copy of the
   * model declaring the inputs with the samples' shapes. An estimate only: if that inference fails,
   * the declared shapes are used.
   */
  static Function<String, OptionalLong> elementCounts(
      ModelGraph g, List<? extends Map<String, Tensor>> samples) {
    Onnx.GraphProto graph = g.proto().getGraph();
    Onnx.GraphProto.Builder b = null;
    for (int i = 0; i < graph.getInputCount(); i++) {
      Onnx.ValueInfoProto in = graph.getInput(i);
      if (g.isInitializer(in.getName())
          || !in.getType().hasTensorType()
          || g.elementCount(in.getName()).isPresent()) {
        continue;
      }
      long[] shape = commonShape(samples, in.getName());
      if (shape == null) {
        continue;
      }
      Onnx.TensorShapeProto.Builder sp = Onnx.TensorShapeProto.newBuilder();
      for (long d : shape) {
        sp.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
      }
      if (b == null) {
        b = graph.toBuilder();
      }
      b.setInput(
          i,
          in.toBuilder()
              .setType(
                  in.getType().toBuilder()
                      .setTensorType(in.getType().getTensorType().toBuilder().setShape(sp))));
    }
    if (b == null) {
      return g::elementCount;
    }
    try {
      GraphIndex specialised = g.model().withGraph(b.build()).index();
      return t -> ModelGraph.elementCount(specialised.shape(t));
    } catch (OnnxModelException | IllegalArgumentException e) {
      LOG.debug(
          "model {}: shapes not inferable with the sample input shapes ({}); using the declared ones",
          g.name(),
          e.getMessage());
      return g::elementCount;
    }
  }

  /** The shape every sample gives {@code input}, or null when they differ or one lacks it. */
  private static long[] commonShape(List<? extends Map<String, Tensor>> samples, String input) {
    long[] shape = null;
    for (Map<String, Tensor> s : samples) {
      Tensor t = s.get(input);
      if (t == null || (shape != null && !java.util.Arrays.equals(shape, t.shape()))) {
        return null;
      }
      shape = t.shape();
    }
    return shape;
  }

  /**
   * Estimated bytes {@code tensor} holds over all samples, as float32; {@code chunkBytes /
   * chunkSize} when its shape is not static.
   */
  long tensorBytes(String tensor) {
    OptionalLong elements = elementCount.apply(tensor);
    if (elements.isEmpty()) {
      return budget.unknownTensorBytes();
    }
    return LongMath.saturatedMultiply(
        LongMath.saturatedMultiply(elements.getAsLong(), Float.BYTES), samples);
  }

  /**
   * Estimated bytes of a node's float outputs (what its shadow copy's outputs hold). Outputs of
   * unknown size count 0 here: the shadow has always been one build (split only when it fails), and
   * models with symbolic shapes keep that.
   */
  long nodeOutputBytes(String node) {
    long sum = 0;
    for (String o : Amplification.floatOutputs(graph, List.of(node))) {
      if (elementCount.apply(o).isPresent()) {
        sum = LongMath.saturatedAdd(sum, tensorBytes(o));
      }
    }
    return sum;
  }

  /** {@code tensors} in chunks within the budget and the cap. */
  ImmutableList<List<String>> tensors(List<String> tensors) {
    return split(tensors, this::tensorBytes);
  }

  /**
   * {@code nodes} in chunks whose float outputs fit the budget, at most the cap of nodes per chunk.
   */
  ImmutableList<List<String>> nodes(List<String> nodes) {
    return split(nodes, this::nodeOutputBytes);
  }

  /** Greedy, in order: a chunk is closed when the next item would pass the budget or the cap. */
  ImmutableList<List<String>> split(List<String> items, ToLongFunction<String> bytes) {
    ImmutableList.Builder<List<String>> out = ImmutableList.builder();
    int start = 0;
    long held = 0;
    for (int i = 0; i < items.size(); i++) {
      long b = bytes.applyAsLong(items.get(i));
      if (i > start
          && (i - start >= budget.maxChunkTensors()
              || LongMath.saturatedAdd(held, b) > budget.chunkBytes())) {
        out.add(List.copyOf(items.subList(start, i)));
        start = i;
        held = 0;
      }
      held = LongMath.saturatedAdd(held, b);
    }
    if (start < items.size()) {
      out.add(List.copyOf(items.subList(start, items.size())));
    }
    return out.build();
  }
}
