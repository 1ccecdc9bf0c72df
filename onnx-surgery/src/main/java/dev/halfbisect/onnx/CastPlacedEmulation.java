package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a Cast-placed mixed-precision model (issue 19: what {@link Fp16Conversion} writes and
 * TensorRT builds strongly typed, or a model converted by ModelOpt AutoCast or
 * onnxconverter-common) with the numerics of its storage types on a CPU provider that would
 * otherwise compute its FP16 ops in FP32 and drop the Casts: the model becomes float32, and every
 * tensor it declares in the low-precision type is rounded to that type where it is produced.
 *
 * <ul>
 *   <li>A node writing a low-precision tensor writes {@code <t>__unrounded}; a Cast pair ({@code
 *       Cast(low) -> Cast(FLOAT)}) writes {@code <t>}. A {@code Cast(to=FLOAT16|BFLOAT16)} is
 *       itself such a node; a {@code Cast(to=FLOAT)} then only widens.
 *   <li>Low-precision initializers and Constant values become float32 of the same values.
 *   <li>Attributes naming the low type ({@code Cast.to}, {@code dtype}, ConstantOfShape values)
 *       name FLOAT.
 *   <li>Graph inputs and outputs declared in the low type are declared FLOAT; such inputs are
 *       rounded for every reader.
 * </ul>
 *
 * <p>It reproduces storage overflow, underflow and rounding of the low-precision region, not the
 * low-precision arithmetic inside kernels (as {@link Fp16Emulation}).
 */
public final class CastPlacedEmulation {
  private static final int FLOAT = DType.FLOAT32.onnxCode();

  private CastPlacedEmulation() {}

  /**
   * The float32 model computing what {@code model}'s {@code low}-typed tensors store. Tensors of
   * the other low type are left alone (a model mixes FP16 or BF16 with FP32, not both).
   */
  public static OnnxModel apply(OnnxModel model, LowPrecision low) {
    Preconditions.checkNotNull(model, "model");
    Preconditions.checkNotNull(low, "low");
    int lowCode = low.onnxCode();
    Onnx.GraphProto g = model.graph();
    Map<String, Integer> types = Fp16Support.typesOf(model);
    Fp16Support.Names names = new Fp16Support.Names(g);
    List<Onnx.NodeProto> out = new ArrayList<>();
    java.nio.file.Path baseDir = model.baseDir().orElse(null);
    // graph inputs of the low type: declared FLOAT, rounded once for every reader
    Map<String, String> inputRounded = new java.util.HashMap<>();
    for (Onnx.ValueInfoProto v : g.getInputList()) {
      if (Integer.valueOf(lowCode).equals(types.get(v.getName()))) {
        String r = names.fresh(v.getName() + "__" + low.id() + "emu");
        out.addAll(castPair(names, low, v.getName(), r));
        inputRounded.put(v.getName(), r);
      }
    }
    for (Onnx.NodeProto n : model.index().nodes()) {
      Onnx.NodeProto.Builder nb = n.toBuilder();
      for (int s = 0; s < n.getInputCount(); s++) {
        String r = inputRounded.get(n.getInput(s));
        if (r != null) {
          nb.setInput(s, r);
        }
      }
      retypeAttributes(nb, lowCode, baseDir);
      boolean widen = n.getOpType().equals("Cast") && Fp16Support.intAttr(n, "to", FLOAT) == FLOAT;
      List<Onnx.NodeProto> after = new ArrayList<>();
      for (int k = 0; k < n.getOutputCount(); k++) {
        String o = n.getOutput(k);
        if (!o.isEmpty() && Integer.valueOf(lowCode).equals(types.get(o)) && !widen) {
          String raw = names.fresh(o + "__unrounded");
          nb.setOutput(k, raw);
          after.addAll(castPair(names, low, raw, o));
        }
      }
      out.add(nb.build());
      out.addAll(after);
    }
    Onnx.GraphProto.Builder gb = g.toBuilder().clearNode().addAllNode(out).clearInitializer();
    for (Onnx.TensorProto t : g.getInitializerList()) {
      gb.addInitializer(t.getDataType() == lowCode ? initializerToFloat32(t, baseDir, low) : t);
    }
    for (List<Onnx.ValueInfoProto.Builder> infos :
        List.of(
            gb.getInputBuilderList(), gb.getOutputBuilderList(), gb.getValueInfoBuilderList())) {
      for (Onnx.ValueInfoProto.Builder v : infos) {
        if (v.getType().hasTensorType() && v.getType().getTensorType().getElemType() == lowCode) {
          v.getTypeBuilder().getTensorTypeBuilder().setElemType(FLOAT);
        }
      }
    }
    return model.withProto(model.proto().toBuilder().setGraph(gb).build());
  }

  private static List<Onnx.NodeProto> castPair(
      Fp16Support.Names names, LowPrecision low, String in, String outName) {
    String mid = names.fresh(outName + "__" + low.id());
    return List.of(
        Fp16Support.castNode(
            names.fresh(outName + "__emu_to_" + low.id()), in, mid, low.onnxCode()),
        Fp16Support.castNode(names.fresh(outName + "__emu_to_fp32"), mid, outName, FLOAT));
  }

  /**
   * A low-type initializer as float32. Inline raw data is widened once per buffer instance: the
   * buffers {@link Fp16Conversion} writes for a parsed model are the same on every probe.
   */
  private static Onnx.TensorProto initializerToFloat32(
      Onnx.TensorProto t, java.nio.file.Path baseDir, LowPrecision low) {
    if (!ExternalDataRef.isExternal(t)
        && t.hasRawData()
        && t.getRawData().size() == TensorData.payloadBytes(t)) {
      return Fp16Support.withFloat32Raw(
          t, t.getName(), RoundedInitializers.widened(t.getRawData(), low));
    }
    return toFloat32(t, baseDir);
  }

  private static Onnx.TensorProto toFloat32(Onnx.TensorProto t, java.nio.file.Path baseDir) {
    float[] v = TensorData.toTensor(t, baseDir).toFloatArray();
    return Fp16Support.withFloat32(t, t.getName(), v);
  }

  private static void retypeAttributes(
      Onnx.NodeProto.Builder nb, int lowCode, java.nio.file.Path baseDir) {
    for (int k = 0; k < nb.getAttributeCount(); k++) {
      Onnx.AttributeProto at = nb.getAttribute(k);
      if (at.getType() == Onnx.AttributeProto.AttributeType.INT
          && (at.getName().equals("to") || at.getName().equals("dtype"))
          && at.getI() == lowCode) {
        nb.setAttribute(k, at.toBuilder().setI(FLOAT));
      } else if (at.hasT() && at.getT().getDataType() == lowCode) {
        nb.setAttribute(k, at.toBuilder().setT(toFloat32(at.getT(), baseDir)));
      }
    }
  }
}
