package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.CheckMode;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.ConsoleRenderer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HalfBisectTest {
  @TempDir Path tmp;

  private HalfBisect overflow() {
    return HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .samples(2);
  }

  private static JsonNode json(AnalysisResult r) throws Exception {
    return new ObjectMapper().readTree(r.toJson());
  }

  @Test
  void compareFailsOnOverflowAndPassesOnHealthyModel() throws Exception {
    CompareResult r = overflow().compare();
    assertThat(r.passed()).isFalse();
    assertThat(r.outputs())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.tensor()).isEqualTo("out");
              assertThat(t.pass()).isFalse();
            });
    JsonNode j = json(r);
    assertThat(j.path("schema").asText()).isEqualTo("halfbisect/1");
    assertThat(j.path("command").asText()).isEqualTo("compare");
    assertThat(j.path("verdict").asText()).isEqualTo("fail");
    assertThat(j.path("builds").asInt()).isEqualTo(1);
    assertThat(j.path("warnings").toString())
        .contains("derived from the model", "x:1x16:float32:-1..1");

    CompareResult ok =
        HalfBisect.model(TestModels.healthy(), null, "healthy")
            .reference("interp:fp32")
            .candidate("interp:fp16-emulated")
            .compare();
    assertThat(ok.passed()).isTrue();
    assertThat(ok.outputs().get(0).normalizedError()).isGreaterThan(0).isLessThan(1e-2);
    assertThat(InterpreterBackend.openSessions())
        .as("sessions closed after each operation")
        .isZero();
  }

  @Test
  void layerwiseFindsTheOverflowingPow() throws Exception {
    LayerwiseResult r = overflow().layerwise();
    assertThat(r.tensors())
        .extracting(TensorResult::tensor)
        .containsExactly("scaled", "squared", "shrunk", "out");
    assertThat(r.tensors().get(0).pass()).isTrue();
    assertThat(r.firstFailing())
        .get()
        .satisfies(
            t -> {
              assertThat(t.node()).isEqualTo("square");
              assertThat(t.opType()).isEqualTo("Pow");
            });
    JsonNode j = json(r);
    assertThat(j.path("tensors").get(1).path("verdict").asText()).isEqualTo("fail");
    assertThat(j.path("firstFailing").path("node").asText()).isEqualTo("square");
  }

  /**
   * A backend whose builds fail above one observed tensor: layerwise still observes all four, and
   * the report says what the chunks were cut to and how to start there.
   */
  @Test
  void layerwiseReportsTheChunkSizeFailedBuildsTaught() throws Exception {
    System.setProperty(InterpreterBackend.MAX_OBSERVED_PROPERTY, "1");
    LayerwiseResult r;
    try {
      r = overflow().layerwise();
    } finally {
      System.clearProperty(InterpreterBackend.MAX_OBSERVED_PROPERTY);
    }
    assertThat(r.tensors()).hasSize(4);
    assertThat(r.firstFailing()).get().extracting(TensorResult::node).isEqualTo("square");
    assertThat(json(r).path("warnings").toString())
        .contains("observed builds failed for their size")
        .contains("--observe-max 1 starts there");
  }

  @Test
  void bisectNeedsFewerObservedTensorsAndAgreesWithLayerwise() throws Exception {
    BisectResult r = overflow().bisect();
    assertThat(r.divergence()).get().extracting(Divergence::tensor).isEqualTo("squared");
    JsonNode j = json(r);
    assertThat(j.path("firstFailing").path("node").asText()).isEqualTo("square");
    assertThat(j.path("firstFailing").path("opType").asText()).isEqualTo("Pow");
    assertThat(j.path("builds").asInt()).isBetween(1, 4);
  }

  @Test
  void amplifySeparatesLocalFromInheritedError() throws Exception {
    AmplifyResult r = overflow().amplify();
    NodeAmplification square = r.node("square").orElseThrow();
    assertThat(square.localError()).isGreaterThan(1e-2);
    JsonNode j = json(r);
    assertThat(j.path("nodes")).isNotEmpty();
    assertThat(j.path("nodes").get(0).has("amplification")).isTrue();
    assertThat(j.path("byOpType").toString()).contains("\"Pow\"");
    assertThat(j.path("rootCauses").get(0).path("node").asText()).isEqualTo("square");
  }

  @Test
  void precisionPinsPowAndItsConsumerAndWritesPlanFiles() throws Exception {
    PrecisionResult r = overflow().outDir(tmp).precision();
    assertThat(r.passed()).isTrue();
    assertThat(r.plan().fp32Nodes()).containsExactly("shrink", "square");
    assertThat(r.fp32Nodes()).containsExactly("shrink", "square"); // sorted, as the plan and JSON
    assertThat(r.fp16Fraction()).isEqualTo(0.5);
    assertThat(tmp.resolve("model-fp16.onnx")).isRegularFile();
    assertThat(Files.readString(tmp.resolve("trtexec-flags.txt")))
        .contains("--layerPrecisions=shrink:fp32,square:fp32");
    assertThat(PrecisionPlan.read(tmp.resolve("plan.json"))).isEqualTo(r.plan());
    JsonNode j = json(r);
    assertThat(j.path("fp32Nodes").toString()).isEqualTo("[\"shrink\",\"square\"]");
    assertThat(j.path("fp16Fraction").asDouble()).isEqualTo(0.5);
    // The plan found makes compare pass.
    assertThat(overflow().plan(r.plan()).compare().passed()).isTrue();
  }

  @Test
  void reduceIsolatesTheOverflowingNode() throws Exception {
    ReduceResult r = overflow().outDir(tmp).reduce();
    assertThat(r.nodes()).contains("square");
    assertThat(r.model()).get().satisfies(p -> assertThat(p).startsWith(tmp).isRegularFile());
    // The reduced model is a valid model on its own and still fails.
    HalfBisect reduced =
        HalfBisect.model(r.model().orElseThrow())
            .reference("interp:fp32")
            .candidate("interp:fp16-emulated")
            .loadInputs(r.inputsNpz().orElseThrow());
    assertThat(reduced.compare().passed()).isFalse();
  }

  @Test
  void compareAndExplainExplainsOnlyAFailureAndRepeatsNoBuild() {
    HalfBisect healthy =
        HalfBisect.model(TestModels.healthy(), null, "healthy")
            .reference("interp:fp32")
            .candidate("interp:fp16-emulated");
    assertThat(healthy.compareAndExplain().explanation()).isEmpty();
    CompareResult r = overflow().compareAndExplain();
    assertThat(r.passed()).isFalse();
    assertThat(r.report().command()).isEqualTo("compare");
    DiagnosisResult why = r.explanation().orElseThrow();
    assertThat(why.firstFailing()).get().extracting(TensorResult::node).isEqualTo("square");
    // as many candidate builds as explain() alone: the compare's build is reused
    assertThat(why.builds()).isEqualTo(overflow().explain().builds());
  }

  @Test
  void diagnoseGivesWhereWhyAndFix() throws Exception {
    DiagnosisResult d = overflow().diagnose();
    assertThat(d.passed()).isFalse();
    assertThat(d.firstFailing()).get().extracting(TensorResult::node).isEqualTo("square");
    assertThat(d.plan()).get().satisfies(p -> assertThat(p.fp32Nodes()).contains("square"));
    JsonNode j = json(d);
    assertThat(j.path("fp32Nodes").toString()).contains("square");
    assertThat(ConsoleRenderer.render(d.report())).contains("square");
    Path html = d.writeReport(tmp.resolve("r/report.html"));
    assertThat(Files.readString(html)).contains("<table", "square");
    // HTML went silently into a .json file; null was a helpful-NPE
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.writeReport(tmp.resolve("r.json")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("writeReport writes HTML: give a .html file, not ");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.writeReport(null))
        .hasMessage("writeReport needs the HTML file to write, got null");
    assertThat(Files.exists(tmp.resolve("r.json"))).isFalse();
    assertThat(AnalysisReport.fromJson(d.toJson())).isEqualTo(d.report());
  }

  @Test
  void givenInputsAndSpecsAreUsed() {
    Tensor small = Tensor.ofFloats(new long[] {1, 16}, new float[16]);
    assertThat(overflow().inputs(Map.of("x", small)).compare().passed()).isTrue();
    assertThat(overflow().input("x:1x16:float32:-0.5..0.5").compare().passed()).isTrue();
    assertThat(overflow().input("x:1x16:float32:0.9").compare().passed()).isFalse();
  }

  @Test
  void validationIsEagerWithMessages() throws Exception {
    HalfBisect hb = overflow();
    assertThatThrownBy(() -> HalfBisect.model(tmp.resolve("missing.onnx")))
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining("model file not found")
        .extracting(e -> ((HalfBisectException) e).kind())
        .isEqualTo(HalfBisectException.Kind.USAGE);
    Path junk = Files.writeString(tmp.resolve("junk.onnx"), "this is not protobuf \u0000\u0001");
    assertThatThrownBy(() -> HalfBisect.model(junk))
        .isInstanceOf(HalfBisectException.class)
        .extracting(e -> ((HalfBisectException) e).kind())
        .isEqualTo(HalfBisectException.Kind.MODEL);
    assertThatThrownBy(() -> hb.reference("nope:fp32"))
        .hasMessageContaining("unknown backend 'nope'");
    assertThatThrownBy(() -> hb.candidate("trt:fp16"))
        .hasMessageContaining("unknown backend 'trt'")
        .hasMessageContaining("add the dependency dev.halfbisect:halfbisect-tensorrt");
    // the api's test class path has only the interpreter: the default ort backend is missing
    assertThatThrownBy(() -> HalfBisect.model(TestModels.healthy(), null, "h").compare())
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining("default backend ort:fp32 is not on the class path")
        .hasMessageContaining("Add the dependency dev.halfbisect:halfbisect-onnxruntime")
        .hasMessageContaining("dev.halfbisect:halfbisect,");
    assertThatThrownBy(() -> hb.candidate("interp:int8"))
        .hasMessageContaining("has no mode 'int8'");
    assertThatThrownBy(() -> hb.candidate("interp")).hasMessageContaining("BACKEND:MODE");
    assertThatThrownBy(() -> hb.input("y:1x16:float32:0"))
        .hasMessageContaining("has no input 'y'")
        .hasMessageContaining("x float32 [1x16]");
    assertThatThrownBy(() -> hb.input("x:1x8:float32:0"))
        .hasMessageContaining("expects x float32 [1x16]");
    assertThatThrownBy(() -> hb.input("x:1x16:int64:0")).hasMessageContaining("is int64");
    assertThatThrownBy(() -> hb.input("x:1x16")).hasMessageContaining("NAME:SHAPE:DTYPE:FILL");
    assertThatThrownBy(() -> hb.input("x:1x16:float32:a..b")).hasMessageContaining("LO..HI");
    assertThatThrownBy(() -> hb.plan(PrecisionPlan.fp16Except(List.of("square", "nosuch"))))
        .hasMessageContaining("nosuch");
    assertThatThrownBy(() -> hb.samples(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hb.loadInputs(tmp.resolve("none.npz")))
        .hasMessageContaining("none.npz");
    // Immutability: the failed calls did not change hb, and configured copies leave hb as it was.
    HalfBisect other = hb.tolerance(Tolerance.normalized(0.5));
    assertThat(hb.tolerance()).isEqualTo(Tolerance.fp16Default());
    assertThat(other.tolerance()).isNotEqualTo(hb.tolerance());
  }

  @Test
  void nodesAreNamedSortedOnceAndCyclesAreModelErrors() throws Exception {
    Onnx.ModelProto healthy = TestModels.healthy();
    Onnx.GraphProto g = healthy.getGraph();
    // Unnamed nodes: <OpType>_<position>, as onnx-surgery names them; a repeated name gets __n.
    Onnx.ModelProto unnamed =
        withNodes(
            healthy, g.getNode(0).toBuilder().clearName(), g.getNode(1).toBuilder().clearName());
    assertThat(HalfBisect.model(unnamed, null, "unnamed").nodeNames())
        .containsExactly("Relu_0", "Mul_1");
    Onnx.ModelProto dup =
        withNodes(
            healthy, g.getNode(0).toBuilder().setName("n"), g.getNode(1).toBuilder().setName("n"));
    HalfBisect d = HalfBisect.model(dup, null, "dup");
    assertThat(d.nodeNames()).containsExactly("n", "n__1");
    assertThat(d.plan(PrecisionPlan.fp16Except(List.of("n__1"))).plan().fp32Nodes())
        .containsExactly("n__1");
    // A file and the same model in memory give the same names; nodes are in topological order.
    Onnx.ModelProto reversed =
        withNodes(healthy, g.getNode(1).toBuilder(), g.getNode(0).toBuilder());
    assertThat(HalfBisect.model(TestModels.write(reversed, tmp.resolve("rev.onnx"))).nodeNames())
        .containsExactly("relu", "halve")
        .isEqualTo(HalfBisect.model(reversed, null, "rev").nodeNames());
    Onnx.ModelProto cycle =
        withNodes(healthy, g.getNode(0).toBuilder().setInput(0, "y"), g.getNode(1).toBuilder());
    assertThatThrownBy(() -> HalfBisect.model(cycle, null, "cycle.onnx"))
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining("cycle")
        .extracting(e -> ((HalfBisectException) e).kind())
        .isEqualTo(HalfBisectException.Kind.MODEL);
  }

  private static Onnx.ModelProto withNodes(Onnx.ModelProto m, Onnx.NodeProto.Builder... nodes) {
    Onnx.GraphProto.Builder g = m.getGraph().toBuilder().clearNode();
    for (Onnx.NodeProto.Builder n : nodes) {
      g.addNode(n);
    }
    return m.toBuilder().setGraph(g).build();
  }

  @Test
  void backendErrorsAreReportedAsBackendKind() {
    HalfBisect hb =
        HalfBisect.model(TestModels.unbuildable(), null, "unbuildable")
            .reference("interp:fp32")
            .candidate("interp:fp16-emulated");
    assertThatThrownBy(hb::compare)
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining("op Fail")
        .extracting(e -> ((HalfBisectException) e).kind())
        .isEqualTo(HalfBisectException.Kind.BACKEND);
  }

  @Test
  void polygraphyStyleTolerance() {
    assertThat(
            overflow()
                .input("x:1x16:float32:0.01..0.02")
                .tolerance(Tolerance.elementwise(1e-9, 1e-9))
                .compare()
                .passed())
        .isFalse();
    assertThat(
            overflow()
                .input("x:1x16:float32:0.01..0.02")
                .tolerance(Tolerance.of(CheckMode.MEDIAN, 1, 0))
                .compare()
                .passed())
        .isTrue();
  }
}
