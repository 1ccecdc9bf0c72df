package dev.halfbisect.api;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shadow graph of DESIGN.md: beside every FP16 node a copy is fed the FP32 (reference) inputs
 * rounded to FP16 and its outputs are rounded to FP16 too ({@code Cast(FLOAT16)->Cast(FLOAT)}).
 * Run in FP32, the copy's output minus the original's is the error born in that node alone (its
 * local error), for every node in one build.
 */
final class ShadowGraph {
  static final String SUFFIX = "__hb_shadow";

  /** The shadow model and, per shadowed node, its original output -> shadow output names. */
  record Result(Onnx.ModelProto model, Map<String, Map<String, String>> shadows) {}

  private static final Set<String> SKIPPED = Set.of("Shape", "Size", "Constant", "ConstantOfShape", "If", "Loop",
      "Scan", "Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Transpose", "Gather", "Slice", "Concat",
      "Split", "Expand", "Tile");

  private ShadowGraph() {}

  /**
   * @param float32 tensors known to be float32 (node outputs observed in the reference, graph
   *     inputs and initializers declared float)
   */
  static Result build(ModelGraph g, Set<String> float32, PrecisionPlan plan) {
    Onnx.GraphProto.Builder gb = g.proto().getGraph().toBuilder();
    Set<String> f32 = new HashSet<>(float32);
    g.initializers().values().stream().filter(t -> t.getDataType() == DType.FLOAT32.onnxCode())
        .forEach(t -> f32.add(t.getName()));
    g.inputs().stream().filter(i -> i.dtype() == DType.FLOAT32).forEach(i -> f32.add(i.name()));
    Set<String> rounded = new HashSet<>();
    Map<String, Map<String, String>> shadows = new LinkedHashMap<>();
    for (Onnx.NodeProto n : g.nodes()) {
      // Data-movement ops do not round differently in FP16 than their input already is.
      if (!plan.isFp16(n.getName()) || SKIPPED.contains(n.getOpType()) || !n.getDomain().isEmpty()
          && !n.getDomain().equals("ai.onnx")) {
        continue;
      }
      boolean anyFloatIn = n.getInputList().stream().anyMatch(f32::contains);
      boolean anyFloatOut = n.getOutputList().stream().anyMatch(f32::contains);
      if (!anyFloatIn || !anyFloatOut) {
        continue;
      }
      Onnx.NodeProto.Builder copy = n.toBuilder().setName(n.getName() + SUFFIX).clearInput().clearOutput();
      for (String in : n.getInputList()) {
        if (f32.contains(in)) {
          String h = in + "__hb_h16";
          if (rounded.add(in)) {
            addCastPair(gb, in, h, in + "__hb_round");
          }
          copy.addInput(h);
        } else {
          copy.addInput(in);
        }
      }
      Map<String, String> outs = new LinkedHashMap<>();
      for (String out : n.getOutputList()) {
        if (out.isEmpty()) {
          copy.addOutput("");
          continue;
        }
        String raw = out + "__hb_sraw";
        copy.addOutput(raw);
        if (f32.contains(out)) {
          String s = out + SUFFIX;
          addCastPair(gb, raw, s, out + "__hb_sround");
          outs.put(out, s);
          gb.addValueInfo(Onnx.ValueInfoProto.newBuilder().setName(s).setType(Onnx.TypeProto.newBuilder()
              .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(DType.FLOAT32.onnxCode()))));
        }
      }
      gb.addNode(copy);
      shadows.put(n.getName(), outs);
    }
    // Cast nodes were appended after their consumers' copies in some cases: keep the list sorted.
    List<Onnx.NodeProto> sorted = ModelGraph.of(g.proto().toBuilder().setGraph(gb).build(), null, g.name()).nodes();
    gb.clearNode().addAllNode(sorted);
    return new Result(g.proto().toBuilder().setGraph(gb).build(), shadows);
  }

  private static void addCastPair(Onnx.GraphProto.Builder gb, String from, String to, String prefix) {
    gb.addNode(Onnx.NodeProto.newBuilder().setName(prefix + "_to16").setOpType("Cast").addInput(from)
        .addOutput(prefix + "_h").addAttribute(intAttr("to", DType.FLOAT16.onnxCode())));
    gb.addNode(Onnx.NodeProto.newBuilder().setName(prefix + "_to32").setOpType("Cast").addInput(prefix + "_h")
        .addOutput(to).addAttribute(intAttr("to", DType.FLOAT32.onnxCode())));
  }

  private static Onnx.AttributeProto intAttr(String name, long v) {
    return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(v).build();
  }
}
