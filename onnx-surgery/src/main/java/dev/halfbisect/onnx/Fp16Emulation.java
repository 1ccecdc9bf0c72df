package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites a float32 model so that ONNX Runtime on a CPU reproduces what FP16 storage does to it on
 * a GPU, while computing in FP32: every float input and output of an FP16 node (per the {@link
 * PrecisionPlan}) passes through {@code Cast(to=FLOAT16) -> Cast(to=FLOAT)}. It reproduces storage
 * overflow (x^2 > 65504 becomes inf), underflow and rounding, not FP16 accumulation ({@link
 * Fp16Accumulation} adds that for MatMuls).
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>First, TensorRT's parse-time rewrites in FP32 ({@link TrtParseFolding}): BatchNormalization
 *       becomes a scale/shift (fused into its Conv), and nodes of constant subgraphs stay FP32, so
 *       only their result is rounded, once, where an FP16 node reads it (clamped like a weight). A
 *       constant pinned FP32 is clamped the same way where an FP16 node reads it.
 *   <li>An FP16 node's float32 outputs are rounded where they are produced: the node writes {@code
 *       <t>__unrounded}, the Cast pair writes {@code <t>}, so every consumer and graph output sees
 *       the rounded tensor under its original name.
 *   <li>A float32 tensor from an FP32 source (graph input, pinned node) is rounded once, into
 *       {@code <t>__fp16emu}, however many FP16 nodes read it; FP32 consumers keep the exact value.
 *       Pinned nodes are not touched and their outputs are not rounded.
 *   <li>Float32 initializers and Constant values read by FP16 nodes are rounded once, rewritten as
 *       float32 values of FP16 precision (a rounded copy {@code <t>__fp16emu} is added when FP32
 *       nodes or graph outputs read them too).
 *   <li>GPU rule 1, range clamp: float constants (initializers, Constant nodes, ConstantOfShape
 *       values) beyond the FP16 range are clamped to +-65504 before rounding, as TensorRT does
 *       (with a warning) when it converts weights. Without it BERT's -3.4028235e38 attention-mask
 *       constant becomes -inf and {@code 0 * -inf} spreads NaN everywhere. Infinities and NaN stay
 *       what they are; non-constant tensors are not clamped (an activation beyond 65504 is inf).
 *   <li>GPU rule 2, Sqrt of +inf: FP16 {@code sqrt(+inf)} is +inf on the GPU. The input of an FP16
 *       Sqrt goes through {@code Min(x, FLT_MAX)}: sqrt(FLT_MAX) = 1.8e19 rounds to +inf in the
 *       output Cast pair, NaN stays NaN (ONNX Runtime's Min propagates NaN), and no CPU kernel's
 *       handling of sqrt(+inf) (a fast rsqrt path gives NaN) can leak into the result.
 *   <li>Inputs that must stay float32 by op schema (Resize roi/scales, Upsample scales) and inputs
 *       read only for their shape (Shape, Size) are not rounded. Ops with no FP16 form (see {@link
 *       Fp16Conversion}), control-flow nodes and nodes of other domains stay FP32.
 *   <li>With {@link PrecisionPlan.IoPolicy#FP16}, float graph inputs are rounded for every reader
 *       and float graph outputs are rounded whatever node produces them.
 * </ul>
 *
 * <p>ONNX Runtime does not fold the Cast pairs at any optimization level up to ORT_ENABLE_ALL
 * (checked with 1.29 in this module's tests), so the emulated model can be run with the default
 * level.
 */
public final class Fp16Emulation {
  private static final String FLT_MAX_NAME = "__fp16emu_flt_max";
  private static final String FP16_MAX_NAME = "__fp16emu_fp16_max";
  private static final String FP16_LOWEST_NAME = "__fp16emu_fp16_lowest";

  private Fp16Emulation() {}

  /**
   * The emulated model: a new model with the same folder and name ({@code model} is untouched).
   * Rewritten initializers are written inline; others keep their external data references.
   */
  public static OnnxModel apply(OnnxModel model, PrecisionPlan plan) {
    return apply(model, plan, LowPrecision.FP16);
  }

  /**
   * The emulated model for {@code low}'s type (issue 19): with {@link LowPrecision#BF16} the Cast
   * pairs go through BFLOAT16 and constants are clamped to BF16's range (+-3.39e38, which only
   * float32's extremes such as a -FLT_MAX mask exceed) and rounded to BF16. The Sqrt rule is
   * FP16-only: sqrt of any finite float32 is a finite BF16, so there is nothing to keep infinite.
   */
  public static OnnxModel apply(OnnxModel model, PrecisionPlan plan, LowPrecision low) {
    Preconditions.checkNotNull(model, "model");
    Preconditions.checkNotNull(plan, "plan");
    Preconditions.checkNotNull(low, "low");
    if (plan.defaultPrecision() == PrecisionPlan.Precision.FP32) {
      return model;
    }
    // TensorRT's parse-time rewrites first, in FP32 (issue 15): BN folding, constant subgraphs
    TrtParseFolding.Result folded = TrtParseFolding.apply(model);
    return folded.model().withProto(new Rewrite(folded.model(), folded.plan(plan), low).run());
  }

  /** {@link #apply} on a bare protobuf model (unnamed nodes named as {@link OnnxModel#of} does). */
  public static Onnx.ModelProto applyToProto(Onnx.ModelProto model, PrecisionPlan plan) {
    return applyToProto(model, plan, LowPrecision.FP16);
  }

  /** {@link #apply(OnnxModel, PrecisionPlan, LowPrecision)} on a bare protobuf model. */
  public static Onnx.ModelProto applyToProto(
      Onnx.ModelProto model, PrecisionPlan plan, LowPrecision low) {
    Preconditions.checkNotNull(model, "model");
    if (plan.defaultPrecision() == PrecisionPlan.Precision.FP32) {
      return model;
    }
    return apply(OnnxModel.of(model, null, model.getGraph().getName()), plan, low).proto();
  }

  private static final class Rewrite {
    private final Onnx.ModelProto model;
    private final Fp16Support.Analysis a;
    private final PrecisionPlan plan;
    private final LowPrecision low;
    private final Onnx.GraphProto g;
    private final Fp16Support.Names names;
    private final List<Onnx.NodeProto> out = new ArrayList<>();
    private final Map<String, String> rounded = new HashMap<>();
    private final Map<String, Onnx.TensorProto> initializers = new HashMap<>();
    private final List<Onnx.TensorProto> extraInitializers = new ArrayList<>();
    private final Map<String, List<Boolean>> consumerKinds = new HashMap<>();
    private final java.util.Set<String> constants;
    private String fltMax;
    private String fp16Max;
    private String fp16Lowest;

    Rewrite(OnnxModel model, PrecisionPlan plan, LowPrecision low) {
      this.model = model.proto();
      this.plan = plan;
      this.low = low;
      this.a = new Fp16Support.Analysis(model, plan);
      this.constants = TrtParseFolding.constantTensors(model);
      // constant subgraphs are evaluated in FP32 at parse time: only their result is rounded
      for (int i = 0; i < a.nodes.size(); i++) {
        if (TrtParseFolding.isConstantCompute(a.nodes.get(i), constants)) {
          a.fp16[i] = false;
        }
      }
      this.g = model.graph();
      this.names = new Fp16Support.Names(g);
      for (Onnx.TensorProto t : g.getInitializerList()) {
        initializers.put(t.getName(), t);
      }
      // for every tensor: one entry per consumer slot, true when that slot reads it in FP16
      for (int i = 0; i < a.nodes.size(); i++) {
        Onnx.NodeProto n = a.nodes.get(i);
        for (int s = 0; s < n.getInputCount(); s++) {
          consumerKinds
              .computeIfAbsent(n.getInput(s), k -> new ArrayList<>())
              .add(roundsInput(i, s));
        }
      }
    }

    private boolean roundsInput(int node, int slot) {
      return a.fp16[node] && a.consumesFp16(a.nodes.get(node), slot);
    }

    private boolean onlyFp16Readers(String t) {
      List<Boolean> kinds = consumerKinds.getOrDefault(t, List.of());
      return !a.graphOutputs.contains(t)
          && !a.graphInputs.contains(t)
          && kinds.stream().allMatch(b -> b);
    }

    private boolean anyFp16Reader(String t) {
      return consumerKinds.getOrDefault(t, List.of()).contains(Boolean.TRUE);
    }

    Onnx.ModelProto run() {
      // initializers read by FP16 nodes: rounded in place, or a rounded copy beside the original
      for (Onnx.TensorProto t : g.getInitializerList()) {
        if (t.getDataType() != DType.FLOAT32.onnxCode() || !anyFp16Reader(t.getName())) {
          continue;
        }
        com.google.protobuf.ByteString r = RoundedInitializers.of(t, a.baseDir, low);
        if (onlyFp16Readers(t.getName())) {
          initializers.put(t.getName(), Fp16Support.withFloat32Raw(t, t.getName(), r));
          rounded.put(t.getName(), t.getName());
        } else {
          String copy = names.fresh(t.getName() + "__fp16emu");
          extraInitializers.add(Fp16Support.withFloat32Raw(t, copy, r));
          rounded.put(t.getName(), copy);
        }
      }
      boolean fp16Io = plan.ioPolicy() == PrecisionPlan.IoPolicy.FP16;
      if (fp16Io) {
        // float16 graph inputs: every reader, FP32 ones included, sees the rounded value
        for (Onnx.ValueInfoProto v : g.getInputList()) {
          if (a.graphInputs.contains(v.getName()) && a.isFloat32(v.getName())) {
            roundedInput(v.getName());
          }
        }
      }
      for (int i = 0; i < a.nodes.size(); i++) {
        Onnx.NodeProto n = a.nodes.get(i);
        if (a.fp16[i] && n.getOpType().equals("Constant")) {
          emitConstant(n);
          continue;
        }
        Onnx.NodeProto.Builder nb = n.toBuilder();
        if (a.fp16[i]) {
          for (int s = 0; s < n.getInputCount(); s++) {
            if (a.consumesFp16(n, s) && !producedByRoundingNode(n.getInput(s))) {
              nb.setInput(s, roundedInput(n.getInput(s)));
            }
          }
          if (low == LowPrecision.FP16
              && n.getOpType().equals("Sqrt")
              && a.isFloat32(n.getInput(0))) {
            nb.setInput(0, clampedToFltMax(nb.getInput(0), n.getName()));
          }
          if (n.getOpType().equals("ConstantOfShape")) {
            roundConstantOfShapeValue(nb);
          }
        }
        if (fp16Io && !a.fp16[i]) {
          for (int s = 0; s < n.getInputCount(); s++) {
            if (a.graphInputs.contains(n.getInput(s)) && a.isFloat32(n.getInput(s))) {
              nb.setInput(s, roundedInput(n.getInput(s)));
            }
          }
        }
        List<Onnx.NodeProto> after = new ArrayList<>();
        if (a.fp16[i] || fp16Io) {
          for (int k = 0; k < n.getOutputCount(); k++) {
            String o = n.getOutput(k);
            // FP16 nodes round every float output; with float16 graph I/O, FP32 nodes round graph
            // outputs
            if (a.isFloat32(o) && (a.fp16[i] || a.graphOutputs.contains(o))) {
              String raw = names.fresh(o + "__unrounded");
              nb.setOutput(k, raw);
              after.addAll(castPair(raw, o));
            }
          }
        }
        out.add(nb.build());
        out.addAll(after);
      }
      Onnx.GraphProto.Builder gb = g.toBuilder().clearNode().addAllNode(out).clearInitializer();
      for (Onnx.TensorProto t : g.getInitializerList()) {
        gb.addInitializer(initializers.get(t.getName()));
      }
      gb.addAllInitializer(extraInitializers);
      return model.toBuilder().setGraph(gb).build();
    }

    private boolean producedByRoundingNode(String t) {
      Integer p = a.producer.get(t);
      return p != null && a.fp16[p] && !a.nodes.get(p).getOpType().equals("Constant");
    }

    /** The rounded version of an FP32-sourced tensor, made once (Cast pair before first use). */
    private String roundedInput(String t) {
      String r = rounded.get(t);
      if (r == null) {
        r = names.fresh(t + "__fp16emu");
        // a constant (a pinned Constant, a folded subgraph's result) is clamped like a weight
        out.addAll(castPair(constants.contains(t) ? clampedToFp16Range(t) : t, r));
        rounded.put(t, r);
      }
      return r;
    }

    /**
     * {@code Max(Min(t, max), -max)} with the low type's largest finite value (65504 for FP16):
     * TensorRT's weight clamp, as graph nodes.
     */
    private String clampedToFp16Range(String t) {
      if (fp16Max == null) {
        fp16Max = names.fresh(FP16_MAX_NAME);
        fp16Lowest = names.fresh(FP16_LOWEST_NAME);
        extraInitializers.add(
            Fp16Support.withFloat32(
                Onnx.TensorProto.newBuilder().build(), fp16Max, new float[] {low.maxValue()}));
        extraInitializers.add(
            Fp16Support.withFloat32(
                Onnx.TensorProto.newBuilder().build(), fp16Lowest, new float[] {-low.maxValue()}));
      }
      String low = names.fresh(t + "__clamp_hi");
      String both = names.fresh(t + "__clamped");
      out.add(minMax("Min", names.fresh(t + "__emu_clamp_hi"), t, fp16Max, low));
      out.add(minMax("Max", names.fresh(t + "__emu_clamp_lo"), low, fp16Lowest, both));
      return both;
    }

    private static Onnx.NodeProto minMax(String op, String name, String a, String b, String y) {
      return Onnx.NodeProto.newBuilder()
          .setName(name)
          .setOpType(op)
          .addInput(a)
          .addInput(b)
          .addOutput(y)
          .build();
    }

    private List<Onnx.NodeProto> castPair(String in, String outName) {
      String mid = names.fresh(outName + "__" + low.id());
      return List.of(
          Fp16Support.castNode(
              names.fresh(outName + "__emu_to_" + low.id()), in, mid, low.onnxCode()),
          Fp16Support.castNode(
              names.fresh(outName + "__emu_to_fp32"), mid, outName, DType.FLOAT32.onnxCode()));
    }

    private String clampedToFltMax(String x, String sqrtNode) {
      if (fltMax == null) {
        fltMax = names.fresh(FLT_MAX_NAME);
        extraInitializers.add(
            Fp16Support.withFloat32(
                Onnx.TensorProto.newBuilder().build(), fltMax, new float[] {Float.MAX_VALUE}));
      }
      String y = names.fresh(x + "__min_flt_max");
      out.add(
          Onnx.NodeProto.newBuilder()
              .setName(names.fresh(sqrtNode + "__emu_min_flt_max"))
              .setOpType("Min")
              .addInput(x)
              .addInput(fltMax)
              .addOutput(y)
              .build());
      return y;
    }

    private void emitConstant(Onnx.NodeProto n) {
      String o = n.getOutput(0);
      Onnx.AttributeProto value =
          n.getAttributeList().stream()
              .filter(
                  x ->
                      x.getName().equals("value")
                          || x.getName().equals("value_float")
                          || x.getName().equals("value_floats"))
              .findFirst()
              .orElse(null);
      if (value == null || !anyFp16Reader(o)) {
        out.add(n);
        return;
      }
      Onnx.AttributeProto roundedValue = roundFloatAttribute(value, n.getName());
      Onnx.NodeProto.Builder rb = n.toBuilder().clearAttribute().addAttribute(roundedValue);
      if (onlyFp16Readers(o)) {
        out.add(rb.build());
        rounded.put(o, o);
      } else {
        out.add(n);
        String copy = names.fresh(o + "__fp16emu");
        out.add(rb.setName(names.fresh(n.getName() + "__fp16emu")).setOutput(0, copy).build());
        rounded.put(o, copy);
      }
    }

    private void roundConstantOfShapeValue(Onnx.NodeProto.Builder nb) {
      for (int k = 0; k < nb.getAttributeCount(); k++) {
        Onnx.AttributeProto v = nb.getAttribute(k);
        if (v.getName().equals("value") && v.getT().getDataType() == DType.FLOAT32.onnxCode()) {
          nb.setAttribute(k, roundFloatAttribute(v, nb.getName()));
        }
      }
    }

    private Onnx.AttributeProto roundFloatAttribute(Onnx.AttributeProto v, String node) {
      switch (v.getName()) {
        case "value_float":
          return v.toBuilder().setF(low.round(low.clampToRange(v.getF()))).build();
        case "value_floats":
          {
            float[] f = new float[v.getFloatsCount()];
            for (int i = 0; i < f.length; i++) {
              f[i] = v.getFloats(i);
            }
            Onnx.AttributeProto.Builder b = v.toBuilder().clearFloats();
            for (float x : Fp16Support.clampAndRound(f, low)) {
              b.addFloats(x);
            }
            return b.build();
          }
        default:
          {
            Onnx.TensorProto t = v.getT();
            float[] r =
                Fp16Support.clampAndRound(Fp16Support.floats(t, a.baseDir, "node " + node), low);
            return v.toBuilder().setT(Fp16Support.withFloat32(t, t.getName(), r)).build();
          }
      }
    }
  }
}
