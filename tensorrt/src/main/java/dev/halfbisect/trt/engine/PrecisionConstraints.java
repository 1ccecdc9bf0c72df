package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which TensorRT layers get {@code setPrecision(kFLOAT)} and {@code setOutputType(i, kFLOAT)} for a
 * set of pinned ONNX nodes: every layer whose name or {@code [ONNX Layer: x]} metadata names a
 * pinned node. Only float outputs are forced (forcing an int or bool output to float breaks the
 * build); a layer without float outputs (shape arithmetic) keeps its own precision.
 */
public final class PrecisionConstraints {
  /** One constrained layer: its index in the network and the outputs set to FP32. */
  public record LayerConstraint(
      int layerIndex, String layerName, ImmutableList<Integer> floatOutputs) {}

  private final ImmutableList<LayerConstraint> constraints;
  private final ImmutableSet<String> unmatchedNodes;

  private PrecisionConstraints(
      ImmutableList<LayerConstraint> constraints, ImmutableSet<String> unmatchedNodes) {
    this.constraints = constraints;
    this.unmatchedNodes = unmatchedNodes;
  }

  /** Decides the constraints for {@code pinned} ONNX nodes over the network's layers. */
  public static PrecisionConstraints decide(
      Collection<NetworkLayer> layers, Collection<String> pinned) {
    Set<String> wanted = new HashSet<>(pinned);
    Set<String> matched = new HashSet<>();
    ImmutableList.Builder<LayerConstraint> out = ImmutableList.builder();
    for (NetworkLayer l : layers) {
      boolean pin = false;
      for (String node : l.onnxNodes()) {
        if (wanted.contains(node)) {
          matched.add(node);
          pin = true;
        }
      }
      if (wanted.contains(l.name())) {
        matched.add(l.name());
        pin = true;
      }
      if (!pin) {
        continue;
      }
      ImmutableList<Integer> floats = l.floatOutputIndexes();
      if (!floats.isEmpty()) {
        out.add(new LayerConstraint(l.index(), l.name(), floats));
      }
    }
    Set<String> unmatched = new TreeSet<>(wanted);
    unmatched.removeAll(matched);
    return new PrecisionConstraints(out.build(), ImmutableSet.copyOf(unmatched));
  }

  public ImmutableList<LayerConstraint> constraints() {
    return constraints;
  }

  /** Pinned nodes no layer came from (folded away by the parser, or misspelled). */
  public ImmutableSet<String> unmatchedNodes() {
    return unmatchedNodes;
  }
}
