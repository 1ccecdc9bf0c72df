package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSortedSet;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The precision plan an existing mixed-precision model encodes (issue 19: {@code --plan-from}): a
 * model converted to FP16 (or BF16) with Casts around the nodes kept in FP32, as ModelOpt AutoCast
 * writes it (Casts {@code <tensor>_cast_to_fp16} / {@code <tensor>_cast_to_fp32} around FP32
 * islands) or onnxconverter-common's {@code convert_float_to_float16} / {@code
 * auto_convert_mixed_precision} (Casts named after the blocked node), or {@link Fp16Conversion}.
 *
 * <p>Both converters keep the names of the nodes they convert; the Casts they insert have names the
 * original model lacks and are skipped. Each float node of the original model (one with a float32
 * output there) is found in the converted model by name, else by the output tensor it writes, else
 * (fused away, as AutoCast fuses a decomposed LayerNorm into one LayerNormalization) as the first
 * non-Cast node writing a tensor downstream of it; it is kept in FP32 when none of the found node's
 * outputs is in the low-precision type there.
 */
public final class ConvertedModelPlan {
  private static final int FLOAT = DType.FLOAT32.onnxCode();

  private ConvertedModelPlan() {}

  /**
   * What the converted model keeps in FP32.
   *
   * @param fp32Nodes original node names the converted model computes in FP32, sorted
   * @param low the converted model's low-precision type
   * @param floatNodes the original model's float nodes
   * @param lowNodes of those, the ones in the low-precision type in the converted model
   * @param missing original float nodes the converted model does not have (fused or removed by the
   *     converter), counted as neither
   * @param style {@code AutoCast}, {@code onnxconverter-common} or {@code Cast-placed}, from the
   *     names of the inserted Casts
   */
  public record Derived(
      ImmutableSortedSet<String> fp32Nodes,
      LowPrecision low,
      int floatNodes,
      int lowNodes,
      ImmutableList<String> missing,
      String style) {

    /** The plan: the low-precision type everywhere but {@link #fp32Nodes()}. */
    public PrecisionPlan plan() {
      return PrecisionPlan.fp16Except(fp32Nodes);
    }

    /** {@code AutoCast-style model x.onnx keeps 12 of 80 float nodes in FP32 (68 in FP16)}. */
    public String describe(String source) {
      return style
          + " model "
          + source
          + " keeps "
          + fp32Nodes.size()
          + " of "
          + floatNodes
          + " float nodes in FP32 ("
          + lowNodes
          + " in "
          + low.name()
          + (missing.isEmpty() ? "" : ", " + missing.size() + " not found in it")
          + ")";
    }
  }

  /**
   * Derives the plan of {@code converted} for {@code original}.
   *
   * @throws IllegalArgumentException when {@code converted} has no FP16 or BF16 tensor (it is not a
   *     converted model) or shares no float node with {@code original}
   */
  public static Derived derive(OnnxModel converted, OnnxModel original) {
    Preconditions.checkNotNull(converted, "converted");
    Preconditions.checkNotNull(original, "original");
    Map<String, Integer> convTypes = Fp16Support.typesOf(converted);
    Map<String, Integer> origTypes = Fp16Support.typesOf(original);
    boolean hasBf16 = convTypes.containsValue(LowPrecision.BF16.onnxCode());
    boolean hasFp16 = convTypes.containsValue(LowPrecision.FP16.onnxCode());
    if (!hasBf16 && !hasFp16) {
      throw new IllegalArgumentException(
          "model "
              + converted.name()
              + " has no float16 or bfloat16 tensor: it is not a converted mixed-precision model");
    }
    LowPrecision low = hasFp16 ? LowPrecision.FP16 : LowPrecision.BF16;
    Map<String, Onnx.NodeProto> byName = new HashMap<>();
    Map<String, Onnx.NodeProto> byOutput = new HashMap<>();
    for (Onnx.NodeProto n : converted.graph().getNodeList()) {
      byName.put(n.getName(), n);
      n.getOutputList().forEach(o -> byOutput.put(o, n));
    }
    TreeSet<String> fp32 = new TreeSet<>();
    List<String> missing = new ArrayList<>();
    int floatNodes = 0;
    int lowNodes = 0;
    for (Onnx.NodeProto n : original.index().nodes()) {
      List<String> floatOuts = new ArrayList<>();
      for (String o : n.getOutputList()) {
        if (!o.isEmpty() && Integer.valueOf(FLOAT).equals(origTypes.get(o))) {
          floatOuts.add(o);
        }
      }
      if (floatOuts.isEmpty()) {
        continue;
      }
      floatNodes++;
      Onnx.NodeProto c = byName.get(n.getName());
      if (c == null || !c.getOpType().equals(n.getOpType())) {
        c = byOutput.get(floatOuts.get(0));
        if (c != null && !c.getOpType().equals(n.getOpType())) {
          c = null; // the tensor is now written by an inserted Cast
        }
      }
      if (c == null) {
        c = fusedInto(n, original, byOutput);
      }
      if (c == null) {
        missing.add(n.getName());
        continue;
      }
      boolean inLow = false;
      for (String o : c.getOutputList()) {
        inLow |= Integer.valueOf(low.onnxCode()).equals(convTypes.get(o));
      }
      if (inLow) {
        lowNodes++;
      } else {
        fp32.add(n.getName());
      }
    }
    if (floatNodes > 0 && missing.size() == floatNodes) {
      throw new IllegalArgumentException(
          "model "
              + converted.name()
              + " shares no float node with "
              + original.name()
              + " (by node name or output tensor): it was not converted from this model");
    }
    return new Derived(
        ImmutableSortedSet.copyOf(fp32),
        low,
        floatNodes,
        lowNodes,
        ImmutableList.copyOf(missing),
        style(converted.graph(), original));
  }

  /**
   * The converter node a missing original node was fused into: AutoCast replaces a decomposed
   * LayerNorm by one LayerNormalization that writes the pattern's last tensor, so the interior
   * nodes' tensors are gone. Walks the original graph downstream to the first tensor the converted
   * model writes with a node that is not a Cast; that node's precision is the missing node's.
   */
  @javax.annotation.CheckForNull
  private static Onnx.NodeProto fusedInto(
      Onnx.NodeProto n, OnnxModel original, Map<String, Onnx.NodeProto> byOutput) {
    java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(n.getOutputList());
    java.util.Set<String> seen = new java.util.HashSet<>();
    while (!todo.isEmpty() && seen.size() < 64) { // fusions are local; do not walk the graph
      String t = todo.poll();
      if (t.isEmpty() || !seen.add(t)) {
        continue;
      }
      Onnx.NodeProto writer = byOutput.get(t);
      if (writer != null && !writer.getOpType().equals("Cast")) {
        return writer;
      }
      for (Onnx.NodeProto consumer : original.index().consumers(t)) {
        todo.addAll(consumer.getOutputList());
      }
    }
    return null;
  }

  private static String style(Onnx.GraphProto g, OnnxModel original) {
    for (Onnx.NodeProto n : g.getNodeList()) {
      if (!n.getOpType().equals("Cast") || original.index().hasNode(n.getName())) {
        continue;
      }
      String name = n.getName();
      if (name.matches(".*_cast_to_(fp16|fp32|bf16)(_\\d+)?$")) {
        return "AutoCast-style";
      }
      if (name.contains("InsertedCast")
          || name.matches(".*_(input|output)_cast\\d*$")
          || name.startsWith("graph_input_cast")
          || name.startsWith("graph_output_cast")) {
        return "onnxconverter-common-style";
      }
    }
    return "Cast-placed";
  }
}
