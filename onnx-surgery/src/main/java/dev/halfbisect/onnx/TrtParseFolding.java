package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What TensorRT's ONNX parser and builder do to a float32 network before any precision applies,
 * done here in FP32 so that {@link Fp16Emulation} rounds what TensorRT rounds and nothing else (see
 * docs/onnx-surgery.md, "What TensorRT does at parse time"):
 *
 * <ul>
 *   <li><b>BatchNormalization with constant parameters</b> becomes a per-channel scale and shift,
 *       {@code s = scale / sqrt(var + eps)}, {@code shift = B - mean * s}, computed in FP32 (the
 *       onnx-tensorrt importer computes these "combined" weights on the host and adds an {@code
 *       IScaleLayer}). A BatchNormalization whose input is a Conv with constant weights, read by
 *       nothing else, is fused into that Conv: {@code W' = W * s}, {@code b' = b * s + shift} (the
 *       builder's Convolution + Scale fusion; its FP16 warnings name the fused weights "conv +
 *       bn"). The BatchNormalization node is then folded away.
 *   <li><b>Constant subgraphs</b> (nodes whose every input is an initializer, a Constant or another
 *       such node's output) are evaluated in FP32 and only their result is rounded, once: see
 *       {@link #constantTensors}. The emulation keeps these nodes in FP32 and rounds their output
 *       where an FP16 node reads it.
 * </ul>
 *
 * <p>The rewrite keeps every original tensor name: a fused Conv writes the BatchNormalization's
 * output, and the unfused Conv stays in the graph (ONNX Runtime drops it unless its output is
 * observed), so observing the Conv's own output still works. Nodes the rewrite adds are named
 * {@code <node>__trt_*} and take the precision of the node they come from ({@link
 * Result#plan(PrecisionPlan)}).
 */
public final class TrtParseFolding {
  private static final Set<String> NOT_FOLDABLE =
      Set.of(
          "RandomNormal",
          "RandomUniform",
          "RandomNormalLike",
          "RandomUniformLike",
          "Multinomial",
          "Bernoulli",
          "Dropout");

  private TrtParseFolding() {}

  /**
   * @param model the rewritten model (same folder and name)
   * @param foldedNodes original nodes TensorRT folds away (fused BatchNormalizations and the
   *     compute nodes of constant subgraphs), topological order: pinning them changes nothing, so
   *     they are never proposed as fixes
   * @param origins for each node the rewrite added, the original node whose precision it takes
   */
  public record Result(
      OnnxModel model, ImmutableList<String> foldedNodes, ImmutableMap<String, String> origins) {

    /** {@code plan} extended to the added nodes: each is pinned when its origin is pinned. */
    public PrecisionPlan plan(PrecisionPlan plan) {
      List<String> pinned = new ArrayList<>();
      origins.forEach(
          (added, origin) -> {
            if (!plan.isFp16(origin)) {
              pinned.add(added);
            }
          });
      return pinned.isEmpty() || plan.defaultPrecision() == PrecisionPlan.Precision.FP32
          ? plan
          : plan.pin(pinned);
    }
  }

  /** Applies the parse-time rewrites; {@code model} is untouched. */
  public static Result apply(OnnxModel model) {
    Preconditions.checkNotNull(model, "model");
    return new Rewrite(model).run();
  }

  /**
   * The original nodes TensorRT folds away: BatchNormalizations fused into their Conv, and nodes
   * other than {@code Constant} whose every output is a constant tensor. Topological order.
   */
  public static ImmutableList<String> foldedNodes(OnnxModel model) {
    return apply(model).foldedNodes();
  }

  /**
   * Tensors TensorRT knows at parse time: initializers that are not graph inputs, outputs of
   * Constant nodes, and outputs of deterministic nodes of the default domain without subgraphs
   * whose every input is such a tensor.
   */
  public static ImmutableSet<String> constantTensors(OnnxModel model) {
    Preconditions.checkNotNull(model, "model");
    GraphIndex index = model.index();
    Set<String> inputs = new java.util.HashSet<>(index.graphInputs());
    Set<String> c = new LinkedHashSet<>();
    for (Onnx.TensorProto t : model.graph().getInitializerList()) {
      if (!inputs.contains(t.getName())) {
        c.add(t.getName());
      }
    }
    for (Onnx.NodeProto n : index.nodes()) {
      if (foldable(n) && index.nodeInputs(n).stream().allMatch(c::contains)) {
        n.getOutputList().stream().filter(o -> !o.isEmpty()).forEach(c::add);
      }
    }
    return ImmutableSet.copyOf(c);
  }

  /**
   * Constants this large are masking fills (-1e9, -3.4e38), not weights a network computes with.
   */
  public static final double FILL_MAGNITUDE = 1e8;

  /**
   * Ops that carry a clamped constant's value (or a sum with it) to their output unchanged in kind.
   */
  private static final Set<String> CARRIERS =
      Set.of(
          "Mul",
          "Add",
          "Sub",
          "Neg",
          "Identity",
          "Cast",
          "Unsqueeze",
          "Squeeze",
          "Reshape",
          "Expand",
          "Transpose",
          "Flatten",
          "Concat",
          "Slice",
          "Gather",
          "Tile",
          "Where",
          "Max",
          "Min");

  /**
   * Float tensors that hold a masking fill TensorRT clamps (a finite initializer or Constant value
   * of magnitude {@link #FILL_MAGNITUDE} or more, such as the -3.4e38 or -1e9 of attention masks)
   * or a value computed from one by an elementwise or data-movement op (Mul, Add, Unsqueeze, Where,
   * ...). In an FP16 engine these carry the clamped value (-65504 plus a small term), not -inf: a
   * probe that feeds them to an FP16 node from FP32 golden values must clamp them the same way.
   */
  public static ImmutableSet<String> saturatingTensors(OnnxModel model) {
    // only fills: a weight of 3e5 also clamps, but x * 65504 overflows like x * 3e5 for |x| > 1
    Preconditions.checkNotNull(model, "model");
    GraphIndex index = model.index();
    java.nio.file.Path base = model.baseDir().orElse(null);
    Set<String> inputs = new java.util.HashSet<>(index.graphInputs());
    Set<String> sat = new LinkedHashSet<>();
    for (Onnx.TensorProto t : model.graph().getInitializerList()) {
      if (!inputs.contains(t.getName())
          && ElementTypes.isFloat(t.getDataType())
          && beyondFp16(t, base)) {
        sat.add(t.getName());
      }
    }
    for (Onnx.NodeProto n : index.nodes()) {
      if (n.getOpType().equals("Constant")) {
        if (n.getOutputCount() > 0 && constantBeyondFp16(n, base)) {
          sat.add(n.getOutput(0));
        }
      } else if (CARRIERS.contains(n.getOpType())
          && n.getInputList().stream().anyMatch(sat::contains)) {
        for (String o : n.getOutputList()) {
          if (!o.isEmpty() && index.elementTypeCode(o).orElse(-1) == DType.FLOAT32.onnxCode()) {
            sat.add(o);
          }
        }
      }
    }
    return ImmutableSet.copyOf(sat);
  }

  private static boolean beyondFp16(
      Onnx.TensorProto t, @javax.annotation.Nullable java.nio.file.Path base) {
    boolean[] beyond = {false};
    TensorData.scanFloats(
        t,
        base,
        v -> {
          if (Double.isFinite(v) && Math.abs(v) >= FILL_MAGNITUDE) {
            beyond[0] = true;
          }
        });
    return beyond[0];
  }

  private static boolean constantBeyondFp16(
      Onnx.NodeProto n, @javax.annotation.Nullable java.nio.file.Path base) {
    for (Onnx.AttributeProto a : n.getAttributeList()) {
      switch (a.getName()) {
        case "value":
          return a.hasT()
              && ElementTypes.isFloat(a.getT().getDataType())
              && beyondFp16(a.getT(), base);
        case "value_float":
          return Float.isFinite(a.getF()) && Math.abs(a.getF()) >= FILL_MAGNITUDE;
        case "value_floats":
          return a.getFloatsList().stream()
              .anyMatch(f -> Float.isFinite(f) && Math.abs(f) >= FILL_MAGNITUDE);
        default:
          break;
      }
    }
    return false;
  }

  private static boolean foldable(Onnx.NodeProto n) {
    return !NOT_FOLDABLE.contains(n.getOpType()) && !Fp16Support.isOpaque(n);
  }

  /** Whether every output of {@code n} is constant and {@code n} computes it (not a Constant). */
  static boolean isConstantCompute(Onnx.NodeProto n, Set<String> constants) {
    return !n.getOpType().equals("Constant")
        && n.getOutputCount() > 0
        && n.getOutputList().stream().allMatch(o -> o.isEmpty() || constants.contains(o));
  }

  private static final class Rewrite {
    private final OnnxModel model;
    private final GraphIndex index;
    private final Set<String> constants;
    private final Fp16Support.Names names;
    private final Map<String, Integer> readers = new HashMap<>();
    private final List<Onnx.NodeProto> out = new ArrayList<>();
    private final List<Onnx.TensorProto> initializers = new ArrayList<>();
    private final List<Onnx.ValueInfoProto> valueInfos = new ArrayList<>();
    private final Map<String, String> origins = new LinkedHashMap<>();
    private final List<String> folded = new ArrayList<>();
    private String bnName;

    Rewrite(OnnxModel model) {
      this.model = model;
      this.index = model.index();
      this.constants = constantTensors(model);
      this.names = new Fp16Support.Names(model.graph());
      for (Onnx.NodeProto n : index.nodes()) {
        for (String i : n.getInputList()) {
          readers.merge(i, 1, Integer::sum);
        }
      }
    }

    Result run() {
      boolean changed = false;
      for (Onnx.NodeProto n : index.nodes()) {
        if (isConstantCompute(n, constants)) {
          folded.add(n.getName());
        }
        if (n.getOpType().equals("BatchNormalization") && foldableBatchNorm(n)) {
          changed |= rewriteBatchNorm(n);
        } else {
          out.add(n);
        }
      }
      if (!changed) {
        return new Result(model, ImmutableList.copyOf(folded), ImmutableMap.of());
      }
      Onnx.GraphProto g =
          model.graph().toBuilder()
              .clearNode()
              .addAllNode(out)
              .addAllInitializer(initializers)
              .addAllValueInfo(valueInfos)
              .build();
      return new Result(
          model.withGraph(g), ImmutableList.copyOf(folded), ImmutableMap.copyOf(origins));
    }

    /** Inference-mode float32 BatchNormalization whose four parameters are constants. */
    private boolean foldableBatchNorm(Onnx.NodeProto n) {
      if (n.getInputCount() < 5 || Fp16Support.intAttr(n, "training_mode", 0) != 0) {
        return false;
      }
      for (int k = 1; k < n.getOutputCount(); k++) {
        if (!n.getOutput(k).isEmpty()) {
          return false;
        }
      }
      for (int s = 1; s < 5; s++) {
        if (!constants.contains(n.getInput(s))) {
          return false;
        }
      }
      return isFloat32(n.getInput(0)) && isFloat32(n.getOutput(0));
    }

    private boolean rewriteBatchNorm(Onnx.NodeProto bn) {
      bnName = bn.getName();
      Optional<Onnx.NodeProto> conv = fusableConv(bn);
      Optional<long[]> rank =
          conv.isPresent()
              ? index.shape(conv.get().getInput(1))
              : index.shape(bn.getInput(0)).filter(s -> s.length >= 2);
      if (rank.isEmpty()) {
        out.add(bn);
        return false;
      }
      float eps = floatAttr(bn, "epsilon", 1e-5f);
      String epsName = initializer("eps", Tensor.ofFloats(new long[0], eps));
      String varEps = op("Add", "var_eps", bn.getInput(4), epsName);
      String std = op("Sqrt", "std", varEps);
      String s = op("Div", "scale", bn.getInput(1), std);
      String meanS = op("Mul", "mean_scale", bn.getInput(3), s);
      String shift = op("Sub", "shift", bn.getInput(2), meanS);
      int r = rank.get().length;
      if (conv.isPresent()) {
        Onnx.NodeProto c = conv.get();
        long[] wShape = new long[r];
        java.util.Arrays.fill(wShape, 1);
        wShape[0] = -1;
        String sw =
            op(
                "Reshape",
                "scale_w",
                s,
                initializer("w_shape", Tensor.ofLongs(new long[] {r}, wShape)));
        String w = op("Mul", "conv_w", c.getInput(1), sw);
        String b =
            c.getInputCount() > 2 && !c.getInput(2).isEmpty()
                ? op("Add", "conv_b", op("Mul", "conv_b_scaled", c.getInput(2), s), shift)
                : shift;
        // the fused Conv takes the Conv's precision; the unfused Conv stays for observation
        String fusedName = names.fresh(c.getName() + "__trt_conv_bn");
        out.add(
            c.toBuilder()
                .setName(fusedName)
                .clearInput()
                .addInput(c.getInput(0))
                .addInput(w)
                .addInput(b)
                .clearOutput()
                .addOutput(bn.getOutput(0))
                .build());
        origins.put(fusedName, c.getName());
        folded.add(bn.getName());
        return true;
      }
      long[] xShape = new long[r];
      java.util.Arrays.fill(xShape, 1);
      xShape[1] = -1;
      String shapeName = initializer("x_shape", Tensor.ofLongs(new long[] {r}, xShape));
      String sx = op("Reshape", "scale_x", s, shapeName);
      String shx = op("Reshape", "shift_x", shift, shapeName);
      String scaled = op("Mul", "scale_layer", bn.getInput(0), sx);
      String addName = names.fresh(bnName + "__trt_shift_layer");
      out.add(node(addName, "Add", bn.getOutput(0), scaled, shx));
      return true;
    }

    /** The Conv producing the BatchNormalization's input when TensorRT fuses the two. */
    private Optional<Onnx.NodeProto> fusableConv(Onnx.NodeProto bn) {
      String x = bn.getInput(0);
      Optional<Onnx.NodeProto> p = index.producer(x);
      if (p.isEmpty()
          || !p.get().getOpType().equals("Conv")
          || readers.getOrDefault(x, 0) != 1
          || index.graphOutputs().contains(x)) {
        return Optional.empty();
      }
      Onnx.NodeProto c = p.get();
      boolean constBias =
          c.getInputCount() < 3 || c.getInput(2).isEmpty() || constants.contains(c.getInput(2));
      return c.getInputCount() >= 2 && constants.contains(c.getInput(1)) && constBias
          ? p
          : Optional.empty();
    }

    private boolean isFloat32(String t) {
      return index.elementTypeCode(t).orElse(-1) == DType.FLOAT32.onnxCode();
    }

    /** A node {@code <bn>__trt_<what>} of one output, taking the BatchNormalization's precision. */
    private String op(String opType, String what, String... inputs) {
      String name = names.fresh(bnName + "__trt_" + what);
      String output = names.fresh(name + "_out");
      out.add(node(name, opType, output, inputs));
      valueInfos.add(floatValue(output));
      return output;
    }

    private Onnx.NodeProto node(String name, String opType, String output, String... inputs) {
      origins.put(name, bnName);
      Onnx.NodeProto.Builder b =
          Onnx.NodeProto.newBuilder().setName(name).setOpType(opType).addOutput(output);
      for (String i : inputs) {
        b.addInput(i);
      }
      return b.build();
    }

    private String initializer(String what, Tensor value) {
      String name = names.fresh(bnName + "__trt_" + what);
      initializers.add(TensorData.fromTensor(name, value));
      return name;
    }

    private static Onnx.ValueInfoProto floatValue(String name) {
      return Onnx.ValueInfoProto.newBuilder()
          .setName(name)
          .setType(
              Onnx.TypeProto.newBuilder()
                  .setTensorType(
                      Onnx.TypeProto.Tensor.newBuilder().setElemType(DType.FLOAT32.onnxCode())))
          .build();
    }

    private static float floatAttr(Onnx.NodeProto n, String name, float dflt) {
      for (Onnx.AttributeProto a : n.getAttributeList()) {
        if (a.getName().equals(name)) {
          return a.getF();
        }
      }
      return dflt;
    }
  }
}
