package dev.halfbisect.report.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.protobuf.ByteString;
import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.Motifs;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.bisect.ProbeResult;
import dev.halfbisect.bisect.Reduce;
import dev.halfbisect.bisect.TensorComparison;
import dev.halfbisect.bisect.TensorError;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.InputError;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.model.TensorRow;
import dev.halfbisect.report.render.ConsoleRenderer;
import dev.halfbisect.report.render.HtmlRenderer;
import dev.halfbisect.report.render.MarkdownRenderer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Maps hand-built engine results of a small two-block model and checks the documents. */
class ReportMapperTest {
  private static final Tolerance TOL = Tolerance.fp16Default();
  private static final ReportMapper.Header HEADER =
      new ReportMapper.Header(
          "layerwise",
          "tiny.onnx",
          BackendPair.of("ort:fp32", "ort:fp16-emulated"),
          ReportMapper.toleranceOf(TOL));

  /**
   * A comparison whose candidate is the reference scaled by (1 + rel); {@code big} puts 1e5 into
   * the reference.
   */
  private static TensorComparison cmp(String tensor, double rel, boolean big, boolean inf) {
    float[] ref = new float[64];
    float[] cand = new float[64];
    for (int i = 0; i < ref.length; i++) {
      ref[i] = (float) Math.sin(i + 1) * (big && i == 3 ? 1e5f : 1f);
      cand[i] = (float) (ref[i] * (1 + rel * ((i % 2) * 2 - 1)));
    }
    if (inf) {
      cand[3] = Float.POSITIVE_INFINITY;
    }
    ErrorStats s = ErrorMetrics.compare(ref, cand);
    return TensorComparison.of(
        tensor, List.of(new TensorError(s, TOL.check(tensor, s, ref, cand))));
  }

  private static Layerwise.Result layerwise() {
    ImmutableList<Layerwise.TensorReport> t =
        ImmutableList.of(
            new Layerwise.TensorReport(
                0,
                "/blocks/blocks.0/mlp/fc1/MatMul_output_0",
                "/blocks/blocks.0/mlp/fc1/MatMul",
                "MatMul",
                cmp("/blocks/blocks.0/mlp/fc1/MatMul_output_0", 1e-3, false, false)),
            new Layerwise.TensorReport(
                1,
                "/blocks/blocks.1/norm2/Pow_output_0",
                "/blocks/blocks.1/norm2/Pow",
                "Pow",
                cmp("/blocks/blocks.1/norm2/Pow_output_0", 1e-3, true, true)),
            new Layerwise.TensorReport(
                2, "out", "/head/Gemm", "Gemm", cmp("out", 0.2, false, false)));
    return new Layerwise.Result(
        t,
        Optional.of(t.get(1)),
        ImmutableMap.of("shape_t", "integer tensor"),
        false,
        2,
        Layerwise.OBSERVATION_NOTE);
  }

  @Test
  void layerwiseWarnsAboutUnrepresentableConstants() {
    Layerwise.Result base = layerwise();
    Layerwise.Result r =
        new Layerwise.Result(
            base.tensors(),
            Optional.empty(),
            ImmutableMap.of(),
            true,
            1,
            Layerwise.OBSERVATION_NOTE,
            ImmutableList.of(
                new Layerwise.UnrepresentableConstant(
                    "/Constant_1_output_0",
                    "/Constant_1",
                    "Constant",
                    3.4028234663852886e38,
                    "values beyond the FP16 maximum 65504")));
    AnalysisReport rep = ReportMapper.from(HEADER, r);
    assertThat(rep.verdict()).isEqualTo("pass");
    assertThat(rep.warnings())
        .anySatisfy(
            w ->
                assertThat(w)
                    .contains("/Constant_1_output_0")
                    .contains("65504")
                    .contains("not counted as a failure"));
  }

  @Test
  void unobservedTensorsWithOneReasonShareOneWarning() {
    Layerwise.Result base = layerwise();
    String folded = "reference: the network has no such tensor after parsing (constant-folded)";
    ImmutableMap.Builder<String, String> un = ImmutableMap.builder();
    for (int i = 0; i < 7; i++) {
      un.put("/c" + i, folded);
    }
    un.put("shape_t", "integer tensor");
    Layerwise.Result r =
        new Layerwise.Result(
            base.tensors(), Optional.empty(), un.build(), true, 1, Layerwise.OBSERVATION_NOTE);
    List<String> w = ReportMapper.from(HEADER, r).warnings();
    assertThat(w)
        .filteredOn(x -> x.contains("constant-folded"))
        .singleElement()
        .satisfies(
            x -> assertThat(x).startsWith("7 tensors not observed (/c0, /c1, /c2, /c3, /c4, ...)"));
    assertThat(w).contains("not observed: shape_t: integer tensor");
  }

  @Test
  void layerwiseMapsTensorsEvidenceAndFirstFailing() {
    AnalysisReport r = ReportMapper.from(HEADER, layerwise());
    assertThat(r.verdict()).isEqualTo("fail");
    assertThat(r.builds()).isEqualTo(2);
    assertThat(r.tolerance().normalizedErrorLimit()).isEqualTo(1e-2);
    assertThat(r.tensorsOrEmpty())
        .extracting(TensorRow::verdict)
        .containsExactly("pass", "fail", "fail");
    TensorRow pow = r.tensorsOrEmpty().get(1);
    assertThat(pow.refCountAboveFp16Max()).isEqualTo(1);
    assertThat(pow.nonFiniteWhereRefFinite()).isEqualTo(1);
    assertThat(pow.block()).isEqualTo("blocks.1");
    assertThat(pow.normalizedError()).isInfinite();
    assertThat(r.firstFailing().node()).isEqualTo("/blocks/blocks.1/norm2/Pow");
    assertThat(r.warnings())
        .contains(Layerwise.OBSERVATION_NOTE, "not observed: shape_t: integer tensor");
    assertThat(r.rootCauses())
        .first()
        .satisfies(
            c -> {
              assertThat(c.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
              assertThat(c.suggestions()).anySatisfy(s -> assertThat(s).contains("opset >= 17"));
            });
    assertThat(AnalysisReport.fromJson(r.toJson()).toJson()).isEqualTo(r.toJson());
  }

  @Test
  void bisectMapsDivergenceWithInputErrors() {
    FirstDivergence.Divergence d =
        new FirstDivergence.Divergence(
            "y",
            "/blocks/blocks.1/norm2/Pow",
            "Pow",
            5,
            cmp("y", 1e-3, true, true),
            ImmutableList.of(cmp("x", 1e-4, false, false)));
    FirstDivergence.Result res =
        new FirstDivergence.Result(
            Optional.of(d),
            Optional.of("out"),
            40,
            ImmutableList.of(
                new FirstDivergence.Step(
                    0, "y", false, ProbeResult.Status.OK, Double.POSITIVE_INFINITY)),
            6,
            7);
    AnalysisReport r = ReportMapper.from(HEADER.withCommand("bisect"), res);
    assertThat(r.verdict()).isEqualTo("fail");
    assertThat(r.builds()).isEqualTo(6);
    assertThat(r.tensors()).isNull();
    assertThat(r.firstFailing().tensor()).isEqualTo("y");
    assertThat(r.firstFailing().inputErrors()).extracting(InputError::tensor).containsExactly("x");
    assertThat(r.rootCauses())
        .extracting(RootCause::cause)
        .containsExactly(RootCause.Cause.OVERFLOW);
  }

  private static ModelGraph graph() {
    ByteBuffer w = ByteBuffer.allocate(4 * 4).order(ByteOrder.LITTLE_ENDIAN);
    w.asFloatBuffer().put(new float[] {1, -2e5f, 3, 4});
    Onnx.GraphProto.Builder g =
        Onnx.GraphProto.newBuilder()
            .setName("tiny")
            .addInput(
                Onnx.ValueInfoProto.newBuilder()
                    .setName("x")
                    .setType(
                        Onnx.TypeProto.newBuilder()
                            .setTensorType(
                                Onnx.TypeProto.Tensor.newBuilder()
                                    .setElemType(1)
                                    .setShape(
                                        Onnx.TensorShapeProto.newBuilder()
                                            .addDim(
                                                Onnx.TensorShapeProto.Dimension.newBuilder()
                                                    .setDimValue(2))
                                            .addDim(
                                                Onnx.TensorShapeProto.Dimension.newBuilder()
                                                    .setDimValue(2))))))
            .addInitializer(
                Onnx.TensorProto.newBuilder()
                    .setName("W")
                    .setDataType(1)
                    .addDims(2)
                    .addDims(2)
                    .setRawData(ByteString.copyFrom(w.array())))
            .addNode(
                Onnx.NodeProto.newBuilder()
                    .setOpType("MatMul")
                    .setName("/blocks/blocks.0/mlp/fc1/MatMul")
                    .addInput("x")
                    .addInput("W")
                    .addOutput("h"))
            .addNode(
                Onnx.NodeProto.newBuilder()
                    .setOpType("Relu")
                    .setName("/blocks/blocks.0/mlp/act/Relu")
                    .addInput("h")
                    .addOutput("out"))
            .addOutput(
                Onnx.ValueInfoProto.newBuilder()
                    .setName("out")
                    .setType(
                        Onnx.TypeProto.newBuilder()
                            .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1))));
    return ModelGraph.of(
        Onnx.ModelProto.newBuilder()
            .setIrVersion(8)
            .setGraph(g)
            .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
            .build(),
        null,
        "tiny");
  }

  private static Amplification.Result amplification() {
    var mm =
        new Amplification.NodeAmplification(
            "/blocks/blocks.0/mlp/fc1/MatMul",
            "MatMul",
            0,
            0.3,
            false,
            1e-4,
            0.3,
            3000,
            0.3,
            Amplification.Method.SHADOW);
    var relu =
        new Amplification.NodeAmplification(
            "/blocks/blocks.0/mlp/act/Relu",
            "Relu",
            1,
            1e-4,
            true,
            0.3,
            0.28,
            0.93,
            0,
            Amplification.Method.SHADOW);
    var motif =
        new Motifs.Motif(
            Motifs.Kind.MATMUL,
            "/blocks/blocks.0/mlp/fc1/MatMul",
            ImmutableList.of("/blocks/blocks.0/mlp/fc1/MatMul"));
    return new Amplification.Result(
        ImmutableList.of(mm, relu),
        ImmutableList.of(mm.node(), relu.node()),
        ImmutableList.of(),
        ImmutableList.of(new Amplification.MotifAmplification(motif, 1e-4, 0.3, 0.3, 3000, 0.3)),
        ImmutableMap.of(),
        3,
        1);
  }

  @Test
  void amplifyMapsNodesGroupsInputsAndWeights() {
    AnalysisReport r = ReportMapper.from(HEADER.withCommand("amplify"), amplification(), graph());
    assertThat(r.verdict()).isEqualTo("fail");
    assertThat(r.nodesOrEmpty())
        .extracting(NodeRow::node)
        .containsExactly("/blocks/blocks.0/mlp/fc1/MatMul", "/blocks/blocks.0/mlp/act/Relu");
    NodeRow mm = r.nodesOrEmpty().get(0);
    assertThat(mm.motif()).isEqualTo("MatMul");
    assertThat(mm.block()).isEqualTo("blocks.0");
    assertThat(mm.inputs()).containsExactly("x");
    assertThat(mm.weightMaxAbs()).isEqualTo(2e5);
    assertThat(r.nodesOrEmpty().get(1).weightMaxAbs())
        .as("not a hotspot: weights not read")
        .isNull();
    assertThat(r.byOpType()).containsOnlyKeys("MatMul", "Relu");
    assertThat(r.byMotif()).containsOnlyKeys("MatMul");
    assertThat(r.byMotif().get("MatMul").maxAmplification()).isEqualTo(3000);
    RootCause c = r.rootCauses().get(0);
    assertThat(c.node()).isEqualTo("/blocks/blocks.0/mlp/fc1/MatMul");
    assertThat(c.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    assertThat(c.suggestions()).anySatisfy(s -> assertThat(s).startsWith("Rescale the weights"));
  }

  @Test
  void overflowPinsNameTheTypeTheCandidateTested() {
    // on the H200 a BF16 MiniLM search pinned the mask scaling /Mul and the report said "FP16"
    PrecisionSearch.Result r =
        new PrecisionSearch.Result(
            true,
            true,
            PrecisionPlan.fp16Except(List.of("/Mul")),
            ImmutableList.of("/Mul"),
            0.99,
            ImmutableMap.of("out", cmp("out", 1e-3, false, false)),
            ImmutableList.of(),
            2,
            1,
            ImmutableList.of("/Mul"),
            PrecisionSearch.STOP_MINIMAL);
    ReportMapper.Header bf16 =
        new ReportMapper.Header(
            "precision",
            "tiny.onnx",
            BackendPair.of("trt:fp32", "trt:bf16-strong"),
            ReportMapper.toleranceOf(TOL));
    AnalysisReport b = ReportMapper.from(bf16, r);
    assertThat(b.warnings())
        .anySatisfy(w -> assertThat(w).contains("because BF16 overflows in them on their own"));
    assertThat(ConsoleRenderer.render(b)).contains("99.0% of float nodes stay BF16");
    assertThat(MarkdownRenderer.render(b)).contains("99.0% of float nodes stay BF16");
    assertThat(HtmlRenderer.render(b)).contains("of float nodes stay BF16");
    assertThat(ReportMapper.from(HEADER.withCommand("precision"), r).warnings())
        .anySatisfy(w -> assertThat(w).contains("because FP16 overflows in them on their own"));
  }

  @Test
  void precisionAndReduceAndDiagnose() {
    PrecisionPlan plan = PrecisionPlan.fp16Except(List.of("/blocks/blocks.1/norm2/Pow"));
    PrecisionSearch.Result p =
        new PrecisionSearch.Result(
            true,
            false,
            plan,
            ImmutableList.of("/blocks/blocks.1/norm2/Pow"),
            0.97,
            ImmutableMap.of("out", cmp("out", 1e-3, false, false)),
            ImmutableList.of(),
            5,
            3);
    AnalysisReport pr = ReportMapper.from(HEADER.withCommand("precision"), p);
    assertThat(pr.verdict()).isEqualTo("pass");
    assertThat(pr.builds()).isEqualTo(8);
    assertThat(pr.fp32Nodes()).containsExactly("/blocks/blocks.1/norm2/Pow");
    assertThat(pr.fp16Fraction()).isEqualTo(0.97);
    assertThat(pr.trtexecFlags()).isEqualTo(plan.toTrtexecFlags());
    assertThat(pr.plan().toPlan()).isEqualTo(plan);
    assertThat(pr.warnings()).singleElement().asString().contains("budget");

    Reduce.Result red =
        new Reduce.Result(
            true,
            "y",
            ImmutableList.of("a", "b"),
            ImmutableList.of("x"),
            Optional.of(cmp("y", 0.3, false, false)),
            0,
            Optional.of(Path.of("out/reduced.onnx")),
            Optional.of(Path.of("out/inputs.npz")),
            Optional.of(Path.of("out/reference.npz")),
            4);
    AnalysisReport rr =
        ReportMapper.from(HEADER.withCommand("reduce"), red, 120, n -> n.equals("b") ? "Pow" : "");
    assertThat(rr.reduce().reducedNodes()).isEqualTo(2);
    assertThat(rr.firstFailing().node()).isEqualTo("b");
    assertThat(rr.firstFailing().opType()).as("was empty").isEqualTo("Pow");
    assertThat(rr.reduce().files()).containsOnlyKeys("inputs", "model", "reference");
    assertThat(rr.verdict()).isEqualTo("fail");

    AnalysisReport d =
        ReportMapper.diagnose(
            HEADER.withCommand("diagnose"), layerwise(), null, amplification(), p, graph());
    assertThat(d.command()).isEqualTo("diagnose");
    assertThat(d.builds()).isEqualTo(2 + 3 + 5);
    assertThat(d.tensors()).hasSize(3);
    assertThat(d.nodes()).hasSize(2);
    assertThat(d.tensors().get(0).motif())
        .as("motif from the amplification rows")
        .isEqualTo("MatMul");
    assertThat(d.fp32Nodes()).containsExactly("/blocks/blocks.1/norm2/Pow");
    assertThat(d.rootCauses()).extracting(RootCause::node).startsWith("/blocks/blocks.1/norm2/Pow");
    // Renders without error in every format.
    assertThat(ConsoleRenderer.render(d)).contains("FP32 set: 1 node");
    assertThat(HtmlRenderer.render(d)).contains("FP32 set found");
    assertThat(MarkdownRenderer.render(d)).contains("## Top amplifiers");
    assertThat(d.warnings() == null ? List.<String>of() : d.warnings())
        .noneMatch(w -> w.contains("is not in the FP32 set"));

    // A fix that leaves out the first divergence says why.
    PrecisionPlan elsewhere = PrecisionPlan.fp16Except(List.of("/blocks/blocks.1/mlp/fc2/MatMul"));
    PrecisionSearch.Result p2 =
        new PrecisionSearch.Result(
            true,
            true,
            elsewhere,
            ImmutableList.of("/blocks/blocks.1/mlp/fc2/MatMul"),
            0.97,
            ImmutableMap.of("out", cmp("out", 1e-3, false, false)),
            ImmutableList.of(),
            5,
            3);
    AnalysisReport d2 =
        ReportMapper.diagnose(
            HEADER.withCommand("diagnose"), layerwise(), null, amplification(), p2, graph());
    assertThat(d2.warnings())
        .anySatisfy(
            w ->
                assertThat(w)
                    .contains(
                        "first divergent node /blocks/blocks.1/norm2/Pow is not in the FP32 set"));
  }
}
