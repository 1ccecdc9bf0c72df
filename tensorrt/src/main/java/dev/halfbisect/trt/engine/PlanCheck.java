package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * After a weakly typed FP16 build with pinned nodes: for each pinned ONNX node, which engine layers
 * cover it and whether they run in FP32. Engine layers are mapped back to ONNX nodes through their
 * metadata, their fused names ({@code a + b}, {@code PWN(a, b)}) and Myelin regions ({@code
 * {ForeignNode[first...last]}}, every network layer from first to last). A pinned node whose
 * covering layer reads or writes FP16, or that sits in a region with unpinned nodes, had its
 * constraint swallowed: that is a warning, not silence.
 */
public final class PlanCheck {
  /** How the engine runs a pinned node. */
  public enum Status {
    /** Every layer covering it has FP32 float inputs and outputs. */
    FP32,
    /**
     * Fused into a layer or Myelin region that also holds FP16 work: the constraint is not visible.
     */
    SWALLOWED,
    /** Its covering layer runs in FP16. */
    FP16,
    /** No engine layer covers it (folded into a constant or removed). */
    NOT_IN_ENGINE
  }

  /** The verdict for one pinned node. */
  public record NodeCheck(String node, Status status, ImmutableList<String> engineLayers) {
    /** {@code node<TAB>STATUS<TAB>layer | layer}. */
    public String toLine() {
      return node + "\t" + status + "\t" + String.join(" | ", engineLayers);
    }

    public boolean isWarning() {
      return status == Status.SWALLOWED || status == Status.FP16;
    }

    public String warning() {
      return status == Status.FP16
          ? "pinned node "
              + node
              + " runs in FP16 in engine layer "
              + String.join(" | ", engineLayers)
          : "FP32 constraint on node "
              + node
              + " was swallowed: TensorRT fused it into "
              + String.join(" | ", engineLayers)
              + ", a layer that also holds unpinned nodes or FP16 inputs/outputs, so FP32 execution of "
              + node
              + " is not guaranteed (the engine does not show the precision inside the fused kernel)";
    }
  }

  private PlanCheck() {}

  /**
   * Issue 19: how many of an engine's float layer outputs are in half precision (FP16 or BF16).
   *
   * @param half outputs in FP16/BF16
   * @param floats float outputs in all
   */
  public record HalfShare(int half, int floats) {
    public double share() {
      return floats == 0 ? 0 : (double) half / floats;
    }

    /** {@code engine: 120 of 145 float tensors (82.8%) in half precision (FP16/BF16)}. */
    public String describe() {
      return "engine: "
          + half
          + " of "
          + floats
          + " float tensors ("
          + String.format(java.util.Locale.ROOT, "%.1f%%", 100 * share())
          + ") in half precision (FP16/BF16)";
    }
  }

  /** The share of float engine-layer outputs written in FP16 or BF16. */
  public static HalfShare halfShare(List<EngineLayer> engine) {
    int half = 0;
    int floats = 0;
    for (EngineLayer e : engine) {
      for (String f : e.outputFormats()) {
        EngineLayer.Precision p = EngineLayer.formatType(f);
        if (p == EngineLayer.Precision.FP16) {
          half++;
          floats++;
        } else if (p == EngineLayer.Precision.FP32) {
          floats++;
        }
      }
    }
    return new HalfShare(half, floats);
  }

  /**
   * One warning per engine layer that swallowed or ran in FP16 pinned nodes, naming the nodes (a
   * 12-block transformer would otherwise give hundreds of lines).
   */
  public static ImmutableList<String> warnings(List<NodeCheck> checks) {
    Map<String, List<String>> swallowed = new java.util.LinkedHashMap<>();
    Map<String, List<String>> half = new java.util.LinkedHashMap<>();
    for (NodeCheck c : checks) {
      if (c.isWarning()) {
        (c.status() == Status.FP16 ? half : swallowed)
            .computeIfAbsent(String.join(" | ", c.engineLayers()), k -> new ArrayList<>())
            .add(c.node());
      }
    }
    ImmutableList.Builder<String> out = ImmutableList.builder();
    swallowed.forEach(
        (layer, nodes) ->
            out.add(
                "FP32 constraint on "
                    + describe(nodes)
                    + " was swallowed: TensorRT "
                    + "fused it into "
                    + layer
                    + ", a layer that also holds unpinned nodes or FP16 inputs/outputs, so FP32 "
                    + "execution is not guaranteed (the engine does not show the precision inside a fused kernel)"));
    half.forEach(
        (layer, nodes) ->
            out.add("pinned " + describe(nodes) + " runs in FP16 in engine layer " + layer));
    return out.build();
  }

  private static String describe(List<String> nodes) {
    String shown = String.join(", ", nodes.subList(0, Math.min(8, nodes.size())));
    return nodes.size() == 1
        ? "node " + nodes.get(0)
        : nodes.size() + " nodes (" + shown + (nodes.size() > 8 ? ", ..." : "") + ")";
  }

  /**
   * Checks {@code pinned} nodes.
   *
   * @param network the parsed network's layers in order (maps engine names back to ONNX nodes)
   * @param engine the engine inspector's layers
   */
  public static ImmutableList<NodeCheck> check(
      List<NetworkLayer> network, List<EngineLayer> engine, Collection<String> pinned) {
    Map<String, Integer> indexByName = new HashMap<>();
    for (int i = 0; i < network.size(); i++) {
      indexByName.putIfAbsent(network.get(i).name(), i);
    }
    Set<String> pinnedSet = new LinkedHashSet<>(pinned);
    Map<String, List<EngineLayer>> covering = new HashMap<>();
    Map<EngineLayer, Boolean> mixesUnpinned = new HashMap<>();
    for (EngineLayer e : engine) {
      Set<String> nodes = coveredNodes(e, network, indexByName);
      boolean hasUnpinned = false;
      for (String n : nodes) {
        covering.computeIfAbsent(n, k -> new ArrayList<>()).add(e);
        hasUnpinned |= !pinnedSet.contains(n);
      }
      mixesUnpinned.put(e, hasUnpinned);
    }
    ImmutableList.Builder<NodeCheck> out = ImmutableList.builder();
    for (String node : pinnedSet) {
      List<EngineLayer> layers = covering.getOrDefault(node, List.of());
      Status status;
      if (layers.isEmpty()) {
        status = Status.NOT_IN_ENGINE;
      } else {
        status = Status.FP32;
        for (EngineLayer e : layers) {
          EngineLayer.Precision p = e.precision();
          if (p == EngineLayer.Precision.FP16 && !mixesUnpinned.get(e)) {
            status = Status.FP16;
            break;
          }
          if (p == EngineLayer.Precision.FP16
              || p == EngineLayer.Precision.MIXED
              || (e.isForeignNode() && mixesUnpinned.get(e))) {
            status = Status.SWALLOWED;
          }
        }
      }
      out.add(
          new NodeCheck(
              node,
              status,
              layers.stream().map(EngineLayer::name).collect(ImmutableList.toImmutableList())));
    }
    return out.build();
  }

  /**
   * A region bound may itself be fused ("c_scale + ONNXTRT_Broadcast"): take its first or last
   * part.
   */
  private static Integer boundIndex(String bound, Map<String, Integer> indexByName, boolean first) {
    Integer i = indexByName.get(bound);
    if (i != null) {
      return i;
    }
    List<String> parts = LayerNames.fusedParts(bound);
    return parts.isEmpty() ? null : indexByName.get(parts.get(first ? 0 : parts.size() - 1));
  }

  /**
   * ONNX nodes an engine layer covers, from its metadata, fused name parts and Myelin region range.
   */
  static Set<String> coveredNodes(
      EngineLayer e, List<NetworkLayer> network, Map<String, Integer> indexByName) {
    Set<String> nodes = new LinkedHashSet<>(LayerNames.fromMetadata(e.metadata()));
    ImmutableList<String> bounds = LayerNames.foreignNodeBounds(e.name());
    if (!bounds.isEmpty()) {
      Integer from = boundIndex(bounds.get(0), indexByName, true);
      Integer to = boundIndex(bounds.get(1), indexByName, false);
      if (from != null && to != null) {
        for (int i = Math.min(from, to); i <= Math.max(from, to); i++) {
          nodes.addAll(network.get(i).onnxNodes());
        }
      }
      return nodes;
    }
    for (String part : LayerNames.fusedParts(e.name())) {
      Integer i = indexByName.get(part);
      if (i != null) {
        nodes.addAll(network.get(i).onnxNodes());
      }
    }
    return nodes;
  }
}
