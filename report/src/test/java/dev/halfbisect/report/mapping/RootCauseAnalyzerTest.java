package dev.halfbisect.report.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.report.SampleReports;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.HeadroomView;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.model.TensorRow;
import dev.halfbisect.report.model.ToleranceView;
import java.util.List;
import org.junit.jupiter.api.Test;

class RootCauseAnalyzerTest {
  private static TensorRow row(
      String node,
      String op,
      double err,
      double refMax,
      long n,
      long nonFinite,
      long above,
      long belowNormal,
      long belowSub) {
    return TensorRow.of(node + "_out", node, op, err, err, err <= 1e-2)
        .withEvidence(refMax, n, nonFinite, above, belowNormal, belowSub);
  }

  @Test
  void overflowFromReferenceRangeInDecomposedLayerNorm() {
    String node = "/blocks/blocks.9/norm2/Pow";
    RootCause c =
        RootCauseAnalyzer.classify(
            node,
            "Pow",
            null,
            List.of(row(node, "Pow", Double.POSITIVE_INFINITY, 1.3e5, 1000, 37, 37, 0, 0)),
            null,
            node);
    assertThat(c.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    assertThat(c.evidence()).contains("1.30e+05", "65504");
    assertThat(c.suggestions().get(0))
        .contains(
            "--fp16 --noTF32 --precisionConstraints=obey --layerPrecisions=/blocks/blocks.9/norm2/Pow:fp32");
    assertThat(c.suggestions())
        .anySatisfy(s -> assertThat(s).contains("opset >= 17", "INormalizationLayer"));
    assertThat(c.suggestions()).anySatisfy(s -> assertThat(s).contains("reductions"));
  }

  @Test
  void overflowFromNonFiniteCandidate() {
    RootCause c =
        RootCauseAnalyzer.classify(
            "/encoder/layer.3/attention/self/Softmax",
            "Softmax",
            null,
            List.of(
                row(
                    "/encoder/layer.3/attention/self/Softmax",
                    "Softmax",
                    Double.NaN,
                    1.0,
                    100,
                    4,
                    0,
                    0,
                    0)),
            null,
            null);
    assertThat(c.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    assertThat(c.evidence()).contains("4 inf/NaN");
    assertThat(c.suggestions()).noneSatisfy(s -> assertThat(s).contains("opset"));
  }

  @Test
  void overflowFromLargeWeightsSuggestsRescaling() {
    NodeRow amp =
        NodeRow.of("/head/Gemm", "Gemm", 0.2, 1e-3, 0.2, 200).withInputs(List.of("x"), 1.5e5);
    RootCause c =
        RootCauseAnalyzer.classify(
            "/head/Gemm",
            "Gemm",
            null,
            List.of(row("/head/Gemm", "Gemm", 0.2, 100, 10, 0, 0, 0, 0)),
            amp,
            null);
    assertThat(c.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    assertThat(c.evidence()).contains("initializer", "1.50e+05");
    assertThat(c.suggestions())
        .anySatisfy(s -> assertThat(s).startsWith("Rescale the weights of /head/Gemm"));
  }

  @Test
  void underflowFromFlushedOrSubnormalShare() {
    RootCause flushed =
        RootCauseAnalyzer.classify(
            "/attn/Mul",
            "Mul",
            null,
            List.of(row("/attn/Mul", "Mul", 0.05, 1e-3, 1000, 0, 0, 50, 20)),
            null,
            null);
    assertThat(flushed.cause()).isEqualTo(RootCause.Cause.UNDERFLOW);
    assertThat(flushed.evidence()).contains("2.0%", "2^-24");
    RootCause sub =
        RootCauseAnalyzer.classify(
            "/encoder/layer.1/output/LayerNorm/Add",
            "Add",
            null,
            List.of(
                row(
                    "/encoder/layer.1/output/LayerNorm/Add",
                    "Add",
                    0.05,
                    1e-3,
                    1000,
                    0,
                    0,
                    150,
                    0)),
            null,
            null);
    assertThat(sub.cause()).isEqualTo(RootCause.Cause.UNDERFLOW);
    assertThat(sub.suggestions()).anySatisfy(s -> assertThat(s).contains("epsilon"));
    // A few subnormals are normal: not underflow.
    RootCause few =
        RootCauseAnalyzer.classify(
            "/attn/Mul",
            "Mul",
            null,
            List.of(row("/attn/Mul", "Mul", 0.05, 1e-3, 1000, 0, 0, 20, 2)),
            null,
            null);
    assertThat(few.cause()).isEqualTo(RootCause.Cause.ROUNDING_ACCUMULATION);
  }

  @Test
  void amplifiedWhenLocalErrorIsSmall() {
    NodeRow amp = NodeRow.of("/blocks/blocks.3/mlp/act/Erf", "Erf", 4e-4, 2e-3, 5e-2, 25);
    RootCause c =
        RootCauseAnalyzer.classify(
            amp.node(),
            "Erf",
            "GELU",
            List.of(row(amp.node(), "Erf", 5e-2, 3, 100, 0, 0, 0, 0)),
            amp,
            "/blocks/blocks.1/norm2/Pow");
    assertThat(c.cause()).isEqualTo(RootCause.Cause.AMPLIFIED);
    assertThat(c.evidence()).contains("25.0x");
    assertThat(c.suggestions().get(0)).contains("inherited", "/blocks/blocks.1/norm2/Pow");
  }

  @Test
  void roundingWhenLocalErrorIsLargeAndRangeIsFine() {
    NodeRow amp =
        NodeRow.of("/encoder/layer.5/output/dense/MatMul", "MatMul", 3e-2, 1e-3, 3e-2, 30);
    RootCause c =
        RootCauseAnalyzer.classify(
            amp.node(),
            "MatMul",
            null,
            List.of(row(amp.node(), "MatMul", 3e-2, 40, 100, 0, 0, 0, 0)),
            amp,
            null);
    assertThat(c.cause()).isEqualTo(RootCause.Cause.ROUNDING_ACCUMULATION);
    assertThat(c.suggestions()).anySatisfy(s -> assertThat(s).contains("accumulation"));
  }

  @Test
  void analyzeSampleFindsOverflowFirstThenAmplifiers() {
    AnalysisReport sample = SampleReports.diagnose();
    // The fixture is consistent: its first failing tensor is the first one whose verdict fails.
    assertThat(
            sample.tensorsOrEmpty().stream()
                .filter(t -> !t.passed())
                .findFirst()
                .orElseThrow()
                .node())
        .isEqualTo(SampleReports.FIRST_FAILING_NODE);
    List<RootCause> rc = sample.rootCauses();
    assertThat(rc).isNotEmpty();
    assertThat(rc.get(0).node()).isEqualTo(SampleReports.FIRST_FAILING_NODE);
    assertThat(rc.get(0).cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    assertThat(rc).extracting(RootCause::node).doesNotHaveDuplicates();
    assertThat(rc.size()).isLessThanOrEqualTo(RootCauseAnalyzer.MAX_HOTSPOTS);
  }

  @Test
  void passingReportWithoutEvidenceHasNoRootCauses() {
    AnalysisReport r =
        AnalysisReport.header(
                "layerwise",
                "m.onnx",
                BackendPair.of("a", "b"),
                true,
                1,
                ToleranceView.fp16Default())
            .withTensors(List.of(TensorRow.of("t", "n", "Add", 1e-3, 1e-3, true)));
    assertThat(RootCauseAnalyzer.analyze(r)).isEmpty();
    assertThat(RootCauseAnalyzer.withRootCauses(r).rootCauses()).isNull();
  }

  @Test
  void anInputBeyondFp16IsTheFirstCauseOfAFailingReportOnlyAndNotForBf16() {
    HeadroomView.AtRisk mask =
        new HeadroomView.AtRisk(
            "mask",
            "graph input",
            "Input",
            1e9,
            1e9 / 65504,
            65504 - 1e9,
            0,
            List.of(0L, 3L),
            List.of(1L, 8L),
            "fail");
    HeadroomView.AtRisk near =
        new HeadroomView.AtRisk(
            "x",
            "graph input",
            "Input",
            4e4,
            4e4 / 65504,
            65504 - 4e4,
            0,
            List.of(0L),
            List.of(1L),
            "pass");
    java.util.function.BiFunction<Boolean, String, AnalysisReport> report =
        (pass, candidate) ->
            AnalysisReport.header(
                    "compare",
                    "m.onnx",
                    BackendPair.of("ort:fp32", candidate),
                    pass,
                    1,
                    ToleranceView.fp16Default())
                .toBuilder()
                .headroom(new HeadroomView(0.5, List.of(mask, near)))
                .build();
    AnalysisReport failing = RootCauseAnalyzer.withInputCauses(report.apply(false, "trt:fp16"));
    assertThat(failing.rootCauses())
        .singleElement()
        .satisfies(
            rc -> {
              assertThat(rc.node()).isEqualTo("mask");
              assertThat(rc.opType()).isEqualTo("Input");
              assertThat(rc.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
              assertThat(rc.evidence())
                  .contains("1.00e+09 (> 65504, sample 0 at [0, 3] of [1, 8])");
            });
    // applied twice, still once
    assertThat(RootCauseAnalyzer.withInputCauses(failing).rootCauses()).hasSize(1);
    // a passing run (an additive mask of -1e9 that the softmax absorbs) and BF16 name no cause
    assertThat(RootCauseAnalyzer.withInputCauses(report.apply(true, "trt:fp16")).rootCauses())
        .isNull();
    assertThat(
            RootCauseAnalyzer.withInputCauses(report.apply(false, "trt:bf16-strong")).rootCauses())
        .isNull();
  }
}
