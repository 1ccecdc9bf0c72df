package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites a float32 model into a mixed FP16/FP32 model under a {@link PrecisionPlan}: the model
 * TensorRT builds with strong typing and ONNX Runtime can run as it is.
 *
 * <ul>
 *   <li>Float compute becomes FP16 except nodes pinned to FP32 by the plan; integer and shape paths
 *       (nodes with no float32 input or output) stay as they are.
 *   <li>A Cast is inserted at every FP16/FP32 border, once per tensor and direction: {@code
 *       <t>__to_fp16} / {@code <t>__to_fp32}.
 *   <li>Float32 initializers and Constant values read only in FP16 become FP16 (clamped to +-65504
 *       first, as TensorRT clamps weights); read in both precisions, the FP32 original stays and an
 *       FP16 copy {@code <t>__fp16} is added.
 *   <li>Graph inputs and outputs keep float32 ({@link PrecisionPlan.IoPolicy#KEEP_FP32}, Casts
 *       behind inputs and before outputs; an output produced in FP16 is renamed {@code <t>__fp16}
 *       inside the graph) or become float16 ({@link PrecisionPlan.IoPolicy#FP16}).
 *   <li>Attributes naming a float type inside the FP16 region follow it: Cast {@code to}=FLOAT,
 *       ConstantOfShape {@code value}, Constant values, RandomNormal/RandomUniform {@code dtype},
 *       EyeLike/Random*Like/Bernoulli {@code dtype}=FLOAT.
 *   <li>Inputs that must stay float32 by op schema stay FP32: Resize roi and scales, Upsample
 *       scales. Ops whose type constraints have no float16 stay FP32 and are reported in {@link
 *       Result#keptFp32NoFp16Form()}: Range, NonMaxSuppression, DynamicQuantizeLinear, IsInf (opset
 *       &lt; 20), CumSum (opset &lt; 14), QuantizeLinear (opset &lt; 19). Control flow (nodes with
 *       subgraphs) and nodes of other domains are left FP32 too; subgraphs must not read outer
 *       float tensors that become FP16.
 *   <li>value_info entries of tensors that became FP16 are retyped.
 * </ul>
 *
 * <p>The result loads and runs in ONNX Runtime, but its CPU provider computes most FP16 ops in FP32
 * behind Casts it inserts and then drops as redundant (seen with ORT 1.29 at every optimization
 * level), so ORT CPU numbers of a converted model are close to FP32. For FP16 numbers on a CPU use
 * {@link Fp16Emulation}; the converted model is meant for TensorRT strong typing and GPU providers.
 */
public final class Fp16Conversion {
  private static final int FLOAT = DType.FLOAT32.onnxCode();

  private Fp16Conversion() {}

  /** The converted model and what could not be converted. */
  public static final class Result {
    private final OnnxModel model;
    private final ImmutableList<String> keptFp32NoFp16Form;

    Result(OnnxModel model, List<String> keptFp32NoFp16Form) {
      this.model = model;
      this.keptFp32NoFp16Form = ImmutableList.copyOf(keptFp32NoFp16Form);
    }

    public OnnxModel model() {
      return model;
    }

    /** The converted model's protobuf. */
    public Onnx.ModelProto proto() {
      return model.proto();
    }

    /** Names of nodes the plan wanted in FP16 that stay FP32 because their op has no FP16 form. */
    public List<String> keptFp32NoFp16Form() {
      return keptFp32NoFp16Form;
    }
  }

  /**
   * Converts {@code model} (untouched) under {@code plan}; the result keeps its folder and name.
   * Converted initializers are written inline; others keep their external data references.
   */
  public static Result apply(OnnxModel model, PrecisionPlan plan) {
    return apply(model, plan, LowPrecision.FP16);
  }

  /**
   * Converts {@code model} to {@code low}'s type (issue 19): with {@link LowPrecision#BF16} the
   * low-precision region is bfloat16 (Casts {@code <t>__to_bf16}, constants clamped to BF16's
   * range), the model a strongly typed BF16 TensorRT build takes. The op table is FP16's: an op
   * with no FP16 form stays FP32 in BF16 too.
   */
  public static Result apply(OnnxModel model, PrecisionPlan plan, LowPrecision low) {
    Preconditions.checkNotNull(model, "model");
    Preconditions.checkNotNull(plan, "plan");
    Preconditions.checkNotNull(low, "low");
    if (plan.defaultPrecision() == PrecisionPlan.Precision.FP32) {
      return new Result(model, List.of());
    }
    Rewrite r = new Rewrite(model, plan, low);
    return new Result(model.withProto(r.run()), r.a.keptFp32NoFp16Form);
  }

  /** {@link #apply} on a bare protobuf model (unnamed nodes named as {@link OnnxModel#of} does). */
  public static Result applyToProto(Onnx.ModelProto model, PrecisionPlan plan) {
    Preconditions.checkNotNull(model, "model");
    return apply(OnnxModel.of(model, null, model.getGraph().getName()), plan);
  }

  private enum Prec {
    FP32,
    FP16
  }

  private static final class Rewrite {
    final Fp16Support.Analysis a;
    private final Onnx.ModelProto model;
    private final Onnx.GraphProto g;
    private final PrecisionPlan plan;
    private final LowPrecision low;
    private final int lowCode;
    private final Fp16Support.Names names;
    private final List<Onnx.NodeProto> out = new ArrayList<>();

    /** Tensors (initializers, FP16 Constant outputs) whose precision is chosen per consumer. */
    private final Map<String, Set<Prec>> sourceNeeds = new HashMap<>();

    /** FP16 name of a source tensor. */
    private final Map<String, String> source16 = new HashMap<>();

    /** (tensor, precision) -> name of the tensor in that precision, made by a Cast. */
    private final Map<String, String> casts = new HashMap<>();

    /** Graph outputs produced in the wrong precision: tensor -> its new internal name. */
    private final Map<String, String> renamed = new HashMap<>();

    Rewrite(OnnxModel model, PrecisionPlan plan, LowPrecision low) {
      this.model = model.proto();
      this.plan = plan;
      this.low = low;
      this.lowCode = low.onnxCode();
      this.a = new Fp16Support.Analysis(model, plan);
      this.g = model.graph();
      this.names = new Fp16Support.Names(g);
    }

    private boolean isConstantSource(int node) {
      return a.fp16[node] && a.nodes.get(node).getOpType().equals("Constant");
    }

    private boolean isSource(String t) {
      if (a.initializers.contains(t)) {
        return !declaredGraphInput(t);
      }
      Integer p = a.producer.get(t);
      return p != null && isConstantSource(p);
    }

    private boolean declaredGraphInput(String t) {
      return g.getInputList().stream().anyMatch(v -> v.getName().equals(t));
    }

    private Prec ioPrec() {
      return plan.ioPolicy() == PrecisionPlan.IoPolicy.FP16 ? Prec.FP16 : Prec.FP32;
    }

    /** Precision a non-source float32 tensor is produced in. */
    private Prec home(String t) {
      Integer p = a.producer.get(t);
      if (p == null) {
        return ioPrec(); // graph input (or an initializer declared as input)
      }
      Onnx.NodeProto n = a.nodes.get(p);
      if (n.getOpType().equals("LayerNormalization") && n.getOutputList().indexOf(t) >= 1) {
        return Prec.FP32; // Mean and InvStdDev have the stash type (float32), not the input type
      }
      return a.fp16[p] ? Prec.FP16 : Prec.FP32;
    }

    /** Precision in which input {@code slot} of node {@code i} is read; null: as produced. */
    private Prec required(int i, int slot) {
      Onnx.NodeProto n = a.nodes.get(i);
      if (Fp16Support.shapeOnly(n, slot)) {
        return null;
      }
      return a.fp16[i] && a.consumesFp16(n, slot) ? Prec.FP16 : Prec.FP32;
    }

    Onnx.ModelProto run() {
      // what each source must provide
      for (int i = 0; i < a.nodes.size(); i++) {
        Onnx.NodeProto n = a.nodes.get(i);
        for (int s = 0; s < n.getInputCount(); s++) {
          String t = n.getInput(s);
          if (a.isFloat32(t) && isSource(t)) {
            Prec req = required(i, s);
            sourceNeeds
                .computeIfAbsent(t, k -> EnumSet.noneOf(Prec.class))
                .add(req == null ? Prec.FP32 : req);
          }
        }
      }
      for (String o : a.graphOutputs) {
        if (a.isFloat32(o) && isSource(o)) {
          sourceNeeds.computeIfAbsent(o, k -> EnumSet.noneOf(Prec.class)).add(ioPrec());
        }
      }
      for (Onnx.TensorProto t : g.getInitializerList()) {
        Set<Prec> needs = sourceNeeds.get(t.getName());
        if (needs != null && needs.contains(Prec.FP16)) {
          source16.put(
              t.getName(),
              needs.contains(Prec.FP32) ? names.fresh(t.getName() + "__" + low.id()) : t.getName());
        }
      }
      for (String o : a.graphOutputs) {
        if (a.isFloat32(o)) {
          if (isSource(o)) {
            continue;
          } else if (a.producer.containsKey(o) && home(o) != ioPrec()) {
            String internal = names.fresh(o + (home(o) == Prec.FP16 ? "__" + low.id() : "__fp32"));
            renamed.put(o, internal);
            casts.put(o + "\u0000" + ioPrec(), o);
          }
        }
      }
      for (int i = 0; i < a.nodes.size(); i++) {
        Onnx.NodeProto n = a.nodes.get(i);
        if (isConstantSource(i)) {
          emitConstant(n);
          continue;
        }
        Onnx.NodeProto.Builder nb = n.toBuilder();
        for (int s = 0; s < n.getInputCount(); s++) {
          String t = n.getInput(s);
          if (a.isFloat32(t)) {
            nb.setInput(s, valueIn(t, required(i, s)));
          }
        }
        if (a.fp16[i]) {
          retypeAttributes(nb);
        }
        List<Onnx.NodeProto> after = new ArrayList<>();
        for (int k = 0; k < n.getOutputCount(); k++) {
          String o = n.getOutput(k);
          String internal = renamed.get(o);
          if (internal != null) {
            nb.setOutput(k, internal);
            after.add(
                Fp16Support.castNode(
                    names.fresh(o + "__to_" + (ioPrec() == Prec.FP16 ? low.id() : "fp32")),
                    internal,
                    o,
                    ioPrec() == Prec.FP16 ? lowCode : FLOAT));
          }
        }
        out.add(nb.build());
        out.addAll(after);
      }
      return model.toBuilder().setGraph(rebuildGraph()).build();
    }

    /**
     * The name under which {@code t} is available in precision {@code want} (null: as produced).
     */
    private String valueIn(String t, Prec want) {
      if (isSource(t)) {
        return want == Prec.FP16 ? source16.get(t) : t;
      }
      String base = renamed.getOrDefault(t, t);
      Prec have = home(t);
      if (want == null || want == have) {
        return base;
      }
      String key = t + "\u0000" + want;
      String c = casts.get(key);
      if (c == null) {
        c = names.fresh(t + (want == Prec.FP16 ? "__to_" + low.id() : "__to_fp32"));
        out.add(Fp16Support.castNode(c, base, c, want == Prec.FP16 ? lowCode : FLOAT));
        casts.put(key, c);
      }
      return c;
    }

    private void emitConstant(Onnx.NodeProto n) {
      String o = n.getOutput(0);
      Set<Prec> needs = sourceNeeds.getOrDefault(o, EnumSet.noneOf(Prec.class));
      if (!needs.contains(Prec.FP16)) {
        out.add(n);
        return;
      }
      Onnx.NodeProto.Builder half = n.toBuilder().clearAttribute();
      for (Onnx.AttributeProto at : n.getAttributeList()) {
        half.addAttribute(constantValueToFp16(at, n.getName()));
      }
      if (needs.contains(Prec.FP32)) {
        out.add(n);
        String copy = names.fresh(o + "__" + low.id());
        out.add(
            half.setName(names.fresh(n.getName() + "__" + low.id())).setOutput(0, copy).build());
        source16.put(o, copy);
      } else {
        out.add(half.build());
        source16.put(o, o);
      }
    }

    private Onnx.AttributeProto constantValueToFp16(Onnx.AttributeProto at, String node) {
      float[] values;
      switch (at.getName()) {
        case "value":
          return at.toBuilder()
              .setT(
                  Fp16Support.toLow(
                      at.getT(),
                      at.getT().getName(),
                      Fp16Support.floats(at.getT(), a.baseDir, "node " + node),
                      low))
              .build();
        case "value_float":
          values = new float[] {at.getF()};
          break;
        case "value_floats":
          values = new float[at.getFloatsCount()];
          for (int i = 0; i < values.length; i++) {
            values[i] = at.getFloats(i);
          }
          break;
        default:
          return at;
      }
      Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder();
      if (at.getName().equals("value_floats")) {
        t.addDims(values.length);
      }
      return Onnx.AttributeProto.newBuilder()
          .setName("value")
          .setType(Onnx.AttributeProto.AttributeType.TENSOR)
          .setT(Fp16Support.toLow(t.build(), "", values, low))
          .build();
    }

    private void retypeAttributes(Onnx.NodeProto.Builder nb) {
      String op = nb.getOpType();
      boolean sawDtype = false;
      for (int k = 0; k < nb.getAttributeCount(); k++) {
        Onnx.AttributeProto at = nb.getAttribute(k);
        switch (op + "." + at.getName()) {
          case "Cast.to":
          case "RandomNormal.dtype":
          case "RandomUniform.dtype":
          case "EyeLike.dtype":
          case "RandomNormalLike.dtype":
          case "RandomUniformLike.dtype":
          case "Bernoulli.dtype":
            sawDtype |= at.getName().equals("dtype");
            if (at.getI() == FLOAT) {
              nb.setAttribute(k, at.toBuilder().setI(lowCode));
            }
            break;
          case "ConstantOfShape.value":
            if (at.getT().getDataType() == FLOAT) {
              nb.setAttribute(
                  k,
                  at.toBuilder()
                      .setT(
                          Fp16Support.toFloat16(
                              at.getT(),
                              at.getT().getName(),
                              Fp16Support.floats(at.getT(), a.baseDir, "node " + nb.getName()))));
            }
            break;
          default:
            break;
        }
      }
      if (op.equals("ConstantOfShape") && !Fp16Support.hasAttr(nb.build(), "value")) {
        // default value is float32 zero: make it an explicit float16 zero
        nb.addAttribute(
            Onnx.AttributeProto.newBuilder()
                .setName("value")
                .setType(Onnx.AttributeProto.AttributeType.TENSOR)
                .setT(
                    Fp16Support.toLow(
                        Onnx.TensorProto.newBuilder().addDims(1).build(),
                        "",
                        new float[] {0f},
                        low)));
      }
      if ((op.equals("RandomNormal") || op.equals("RandomUniform")) && !sawDtype) {
        nb.addAttribute(
            Onnx.AttributeProto.newBuilder()
                .setName("dtype")
                .setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(lowCode));
      }
    }

    private Onnx.GraphProto rebuildGraph() {
      Onnx.GraphProto.Builder gb = g.toBuilder().clearNode().addAllNode(out).clearInitializer();
      for (Onnx.TensorProto t : g.getInitializerList()) {
        Set<Prec> needs = sourceNeeds.getOrDefault(t.getName(), EnumSet.noneOf(Prec.class));
        if (t.getDataType() != FLOAT || !needs.contains(Prec.FP16) || !isSource(t.getName())) {
          gb.addInitializer(t);
          continue;
        }
        // encoded once per parsed initializer, not once per probe (RoundedInitializers)
        com.google.protobuf.ByteString raw = RoundedInitializers.encoded(t, a.baseDir, low);
        if (needs.contains(Prec.FP32)) {
          gb.addInitializer(t);
          gb.addInitializer(Fp16Support.withLowRaw(t, source16.get(t.getName()), raw, low));
        } else {
          gb.addInitializer(Fp16Support.withLowRaw(t, t.getName(), raw, low));
        }
      }
      Set<String> nowFp16 = new HashSet<>();
      for (String t : a.types.keySet()) {
        if (a.isFloat32(t) && !renamed.containsKey(t)) {
          boolean fromFp16Node = a.producer.containsKey(t) && !isSource(t) && home(t) == Prec.FP16;
          boolean inPlaceSource = isSource(t) && t.equals(source16.get(t));
          boolean fp16Input =
              !a.producer.containsKey(t) && !a.initializers.contains(t) && ioPrec() == Prec.FP16;
          if (fromFp16Node || inPlaceSource || fp16Input) {
            nowFp16.add(t);
          }
        }
      }
      for (String o : renamed.keySet()) {
        if (ioPrec() == Prec.FP16) {
          nowFp16.add(o);
        }
      }
      retype(gb.getInputBuilderList(), nowFp16, lowCode);
      retype(gb.getOutputBuilderList(), nowFp16, lowCode);
      retype(gb.getValueInfoBuilderList(), nowFp16, lowCode);
      return gb.build();
    }

    private static void retype(
        List<Onnx.ValueInfoProto.Builder> infos, Set<String> nowFp16, int lowCode) {
      for (Onnx.ValueInfoProto.Builder v : infos) {
        if (nowFp16.contains(v.getName())
            && v.getType().hasTensorType()
            && v.getType().getTensorType().getElemType() == FLOAT) {
          v.getTypeBuilder().getTensorTypeBuilder().setElemType(lowCode);
        }
      }
    }
  }
}
