package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.Fp16TestModels.blockInput;
import static dev.halfbisect.onnx.Fp16TestModels.normalizedError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.builder.OrtTestRunner;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class Fp16ConversionTest {
  private static final int FLOAT = 1;
  private static final int FLOAT16 = 10;

  @Test
  void convertedBlockRunsAndMatchesFp32WithinFp16Tolerance() {
    Onnx.ModelProto m = Fp16TestModels.block(1f);
    Fp16Conversion.Result r = Fp16Conversion.applyToProto(m, PrecisionPlan.allFp16());
    Onnx.ModelProto c = r.proto();
    assertThat(r.keptFp32NoFp16Form()).isEmpty();
    Map<String, Tensor> in = Map.of("x", blockInput(1f));
    float[] ref = OrtTestRunner.run(m, in).get("y");
    float[] got = OrtTestRunner.run(c, in).get("y");
    assertThat(normalizedError(ref, got)).isGreaterThan(1e-5).isLessThan(1e-2);
    // weights are FP16, graph I/O stays FP32 behind/before Casts
    assertThat(c.getGraph().getInitializerList())
        .allMatch(t -> t.getDataType() == FLOAT16 || t.getDataType() == 7);
    assertThat(c.getGraph().getInput(0).getType().getTensorType().getElemType()).isEqualTo(FLOAT);
    assertThat(c.getGraph().getOutput(0).getType().getTensorType().getElemType()).isEqualTo(FLOAT);
    Map<String, Integer> types = Fp16TestModels.types(c);
    for (Onnx.NodeProto n : c.getGraph().getNodeList()) {
      if (!n.getOpType().equals("Cast") && !n.getOpType().equals("Reshape")) {
        assertThat(types.get(n.getOutput(0))).as(n.getName()).isEqualTo(FLOAT16);
      }
    }
    assertThat(
            c.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Cast"))
                .map(Onnx.NodeProto::getName))
        .containsExactlyInAnyOrder("x__to_fp16", "y__to_fp32");
  }

  @Test
  void pinnedLayerNormStaysFp32InTheConvertedGraph() {
    Onnx.ModelProto m = Fp16TestModels.block(600f);
    Map<String, Tensor> in = Map.of("x", blockInput(1f));
    float[] ref = OrtTestRunner.run(m, in).get("y");

    List<String> ln = Fp16TestModels.layerNormNodes(m);
    Onnx.ModelProto c = Fp16Conversion.applyToProto(m, PrecisionPlan.fp16Except(ln)).proto();
    Map<String, Integer> types = Fp16TestModels.types(c);
    for (String name : ln) {
      Onnx.NodeProto n = Fp16TestModels.node(c, name);
      assertThat(types.get(n.getOutput(0))).as(name).isEqualTo(FLOAT);
      for (String i : n.getInputList()) {
        assertThat(types.get(i)).as(name + " input " + i).isIn(FLOAT, 7);
      }
    }
    float[] got = OrtTestRunner.run(c, in).get("y");
    assertThat(Fp16TestModels.allFinite(got)).isTrue();
    assertThat(normalizedError(ref, got)).isLessThan(1e-2);
    // one Cast into the pinned region per tensor: the LayerNorm input is read by ReduceMean and Sub
    long toFp32 =
        c.getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("Cast"))
            .filter(n -> n.getAttribute(0).getI() == FLOAT)
            .count();
    assertThat(toFp32).isEqualTo(2); // LayerNorm input, graph output y
  }

  @Test
  void integerPathsAreUntouchedAndCastToFloatFollowsTheRegion() {
    GraphBuilder g = GraphBuilder.create("ints", 13);
    String ids = g.input("ids", DType.INT64, 1, 3);
    String x = g.input("x", DType.FLOAT32, 1, 3, 4);
    String shape = g.shape(x); // float in, int out: reads only the shape
    String seq = g.gather(shape, g.initializer("one", Tensor.ofLongs(new long[0], 1)), 0);
    String seqF = g.cast(seq, DType.FLOAT32); // in FP16 region: to=FLOAT16
    String idsF = g.cast(ids, DType.FLOAT32);
    String pos = g.unsqueeze(g.div(idsF, seqF), 2); // 1x3x1
    String y = g.add(x, pos);
    String mask = g.equal(ids, g.initializer("zero", Tensor.ofLongs(new long[0], 0)));
    g.output(y).output(mask);
    Onnx.ModelProto m = g.buildProto();
    Onnx.ModelProto c = Fp16Conversion.applyToProto(m, PrecisionPlan.allFp16()).proto();
    for (String name : List.of("/Gather", "/Equal", "/Unsqueeze")) {
      Onnx.NodeProto before = Fp16TestModels.node(m, name);
      Onnx.NodeProto after = Fp16TestModels.node(c, name);
      if (!name.equals("/Unsqueeze")) {
        assertThat(after).as(name).isEqualTo(before);
      }
    }
    assertThat(Fp16TestModels.node(c, "/Shape").getInput(0))
        .isEqualTo("x"); // no Cast just to read a shape
    assertThat(Fp16TestModels.node(c, "/Cast").getAttribute(0).getI()).isEqualTo(FLOAT16);
    Map<String, Tensor> in =
        Map.of(
            "ids",
            Tensor.ofLongs(new long[] {1, 3}, 0, 1, 2),
            "x",
            Tensor.ofFloats(
                new long[] {1, 3, 4}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    Map<String, float[]> ref = OrtTestRunner.run(m, in);
    Map<String, float[]> got = OrtTestRunner.run(c, in);
    assertThat(got.get(mask)).containsExactly(ref.get(mask));
    // ORT's CPU provider computes most FP16 ops in FP32 (see Fp16Conversion): within FP16 tolerance
    assertThat(got.get(y))
        .containsExactly(ref.get(y), org.assertj.core.api.Assertions.within(1e-2f));
  }

  @Test
  void fp16IoPolicyMakesFloatGraphIoHalf() {
    GraphBuilder g = GraphBuilder.create("io", 13);
    String x = g.input("x", DType.FLOAT32, 2);
    g.output(g.mul(x, g.initializer("w", Tensor.ofFloats(new long[] {2}, 3f, 0.5f))));
    Onnx.ModelProto c =
        Fp16Conversion.applyToProto(
                g.buildProto(), PrecisionPlan.allFp16().withIoPolicy(PrecisionPlan.IoPolicy.FP16))
            .proto();
    assertThat(c.getGraph().getInput(0).getType().getTensorType().getElemType()).isEqualTo(FLOAT16);
    assertThat(c.getGraph().getOutput(0).getType().getTensorType().getElemType())
        .isEqualTo(FLOAT16);
    assertThat(c.getGraph().getNodeList()).noneMatch(n -> n.getOpType().equals("Cast"));
    float[] got =
        OrtTestRunner.run(
                c,
                Map.of("x", Tensor.fromFloats(DType.FLOAT16, new long[] {2}, new float[] {2f, 4f})))
            .values()
            .iterator()
            .next();
    assertThat(got).containsExactly(6f, 2f);
  }

  @Test
  void sharedInitializerKeepsFp32CopyAndMaskConstantsAreClamped() {
    GraphBuilder g = GraphBuilder.create("shared", 13);
    String x = g.input("x", DType.FLOAT32, 2);
    String w = g.initializer("w", Tensor.ofFloats(new long[] {2}, -3.4028235e38f, 2f));
    String a = g.add(x, w); // pinned
    String b = g.mul(x, w); // FP16
    g.output(a).output(b);
    Onnx.ModelProto c =
        Fp16Conversion.applyToProto(g.buildProto(), PrecisionPlan.fp16Except(List.of("/Add")))
            .proto();
    Map<String, Onnx.TensorProto> inits =
        c.getGraph().getInitializerList().stream()
            .collect(Collectors.toMap(Onnx.TensorProto::getName, t -> t));
    assertThat(inits.keySet()).containsExactlyInAnyOrder("w", "w__fp16");
    assertThat(inits.get("w").getDataType()).isEqualTo(FLOAT);
    assertThat(inits.get("w__fp16").getDataType()).isEqualTo(FLOAT16);
    short first =
        inits
            .get("w__fp16")
            .getRawData()
            .asReadOnlyByteBuffer()
            .order(ByteOrder.LITTLE_ENDIAN)
            .getShort(0);
    assertThat(Half.toFloat(first)).isEqualTo(-65504f);
    assertThat(Fp16TestModels.node(c, "/Add").getInputList()).containsExactly("x", "w");
    Map<String, float[]> got =
        OrtTestRunner.run(c, Map.of("x", Tensor.ofFloats(new long[] {2}, 0f, 1.5f)));
    assertThat(got.get(a)).containsExactly(-3.4028235e38f, 3.5f);
    assertThat(got.get(b)).containsExactly(-0f, 3f);
  }

  @Test
  void opsWithoutFp16FormAndResizeScalesStayFp32() {
    GraphBuilder g = GraphBuilder.create("misc", 13);
    String x = g.input("x", DType.FLOAT32, 1, 1, 2, 2);
    String up = g.resize(g.relu(x), "nearest", 1f, 1f, 2f, 2f);
    String range =
        g.node(
            "Range",
            g.scalar(DType.FLOAT32, 0f),
            g.scalar(DType.FLOAT32, 4f),
            g.scalar(DType.FLOAT32, 1f));
    String y =
        g.add(g.reshape(up, 1, 16), g.reshape(g.concat(0, range, range, range, range), 1, 16));
    g.output(y);
    Onnx.ModelProto m = g.buildProto();
    Fp16Conversion.Result r = Fp16Conversion.applyToProto(m, PrecisionPlan.allFp16());
    assertThat(r.keptFp32NoFp16Form()).containsExactly("/Range");
    Onnx.ModelProto c = r.proto();
    Onnx.NodeProto resize = Fp16TestModels.node(c, "/Resize");
    Map<String, Integer> types = Fp16TestModels.types(c);
    assertThat(types.get(resize.getInput(0))).isEqualTo(FLOAT16);
    assertThat(types.get(resize.getInput(2))).isEqualTo(FLOAT);
    for (String i : Fp16TestModels.node(c, "/Range").getInputList()) {
      assertThat(types.get(i)).isEqualTo(FLOAT);
    }
    float[] in = {1f, -2f, 3f, 4f};
    Map<String, Tensor> feed = Map.of("x", Tensor.ofFloats(new long[] {1, 1, 2, 2}, in));
    assertThat(OrtTestRunner.run(c, feed).get("/Add_output_0"))
        .containsExactly(OrtTestRunner.run(m, feed).get("/Add_output_0"));
  }

  @Test
  void constantNodesAndConstantOfShapeBecomeFp16() {
    GraphBuilder g = GraphBuilder.create("consts", 13);
    String x = g.input("x", DType.FLOAT32, 3);
    String k = g.constant(Tensor.ofFloats(new long[0], 2f));
    String filled = g.constantOfShape(g.shape(x), 0.25f);
    g.output(g.add(g.mul(x, k), filled));
    Onnx.ModelProto c =
        Fp16Conversion.applyToProto(g.buildProto(), PrecisionPlan.allFp16()).proto();
    assertThat(Fp16TestModels.node(c, "/Constant").getAttribute(0).getT().getDataType())
        .isEqualTo(FLOAT16);
    assertThat(Fp16TestModels.node(c, "/ConstantOfShape").getAttribute(0).getT().getDataType())
        .isEqualTo(FLOAT16);
    float[] got =
        OrtTestRunner.run(c, Map.of("x", Tensor.ofFloats(new long[] {3}, 1f, 2f, 3f)))
            .values()
            .iterator()
            .next();
    assertThat(got).containsExactly(2.25f, 4.25f, 6.25f);
    Set<String> opTypes =
        c.getGraph().getNodeList().stream()
            .map(Onnx.NodeProto::getOpType)
            .collect(Collectors.toSet());
    assertThat(opTypes).contains("Cast");
  }

  @Test
  void valueInfoOfConvertedTensorsIsRetyped() {
    Onnx.ModelProto m = Fp16TestModels.block(1f);
    String hidden = Fp16TestModels.node(m, "/blocks/blocks.0/mlp/fc1/MatMul").getOutput(0);
    Onnx.ValueInfoProto info =
        Onnx.ValueInfoProto.newBuilder()
            .setName(hidden)
            .setType(
                Onnx.TypeProto.newBuilder()
                    .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(FLOAT)))
            .build();
    Onnx.ModelProto withInfo =
        m.toBuilder().setGraph(m.getGraph().toBuilder().addValueInfo(info)).build();
    Onnx.ModelProto c = Fp16Conversion.applyToProto(withInfo, PrecisionPlan.allFp16()).proto();
    assertThat(c.getGraph().getValueInfo(0).getType().getTensorType().getElemType())
        .isEqualTo(FLOAT16);
    Onnx.ModelProto pinned =
        Fp16Conversion.applyToProto(
                withInfo, PrecisionPlan.fp16Except(List.of("/blocks/blocks.0/mlp/fc1/MatMul")))
            .proto();
    assertThat(pinned.getGraph().getValueInfo(0).getType().getTensorType().getElemType())
        .isEqualTo(FLOAT);
    float[] ref = OrtTestRunner.run(m, Map.of("x", blockInput(1f))).get("y");
    float[] got = OrtTestRunner.run(pinned, Map.of("x", blockInput(1f))).get("y");
    assertThat(normalizedError(ref, got)).isLessThan(1e-2);
  }

  @Test
  void fusedLayerNormStatisticsStayFloat32() {
    GraphBuilder g = GraphBuilder.create("lnf", 17);
    String x = g.input("x", DType.FLOAT32, 2, 4);
    String gamma = g.initializer("gamma", Tensor.ofFloats(new long[] {4}, 1f, 1f, 1f, 1f));
    String beta = g.initializer("beta", Tensor.ofFloats(new long[] {4}, 0f, 0f, 0f, 0f));
    List<String> outs =
        g.op("LayerNormalization")
            .in(x, gamma, beta)
            .attr("axis", -1)
            .outputs(3)
            .outTypes(DType.FLOAT32, DType.FLOAT32, DType.FLOAT32)
            .add();
    g.output(outs.get(0)).output(outs.get(1));
    Onnx.ModelProto m = g.buildProto();
    Onnx.ModelProto c = Fp16Conversion.applyToProto(m, PrecisionPlan.allFp16()).proto();
    Map<String, Integer> types = Fp16TestModels.types(c);
    assertThat(types.get(outs.get(0) + "__fp16")).isEqualTo(FLOAT16);
    assertThat(types.get(outs.get(1))).isEqualTo(FLOAT);
    Map<String, Tensor> in =
        Map.of("x", Tensor.ofFloats(new long[] {2, 4}, 1f, 2f, 3f, 4f, -1f, 0f, 1f, 6f));
    Map<String, float[]> ref = OrtTestRunner.run(m, in);
    Map<String, float[]> got = OrtTestRunner.run(c, in);
    assertThat(got.get(outs.get(1)))
        .containsExactly(ref.get(outs.get(1)), org.assertj.core.api.Assertions.within(1e-2f));
    assertThat(got.get(outs.get(0)))
        .containsExactly(ref.get(outs.get(0)), org.assertj.core.api.Assertions.within(1e-2f));
  }
}
