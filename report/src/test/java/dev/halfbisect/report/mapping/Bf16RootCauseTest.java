package dev.halfbisect.report.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.model.TensorRow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 19: the root-cause classes follow the candidate's low-precision type and typing. */
class Bf16RootCauseTest {
  /** A row as an FP16 candidate shows it: values beyond 65504 became inf. */
  private static TensorRow row(String node, double err, double refMax, long belowSub) {
    long beyond = refMax > 65504 ? 12 : 0;
    return TensorRow.of(node + "_out", node, "Pow", err, err, err <= 1e-2)
        .withEvidence(refMax, 1000, beyond, beyond, belowSub, belowSub);
  }

  /** The same tensor as a BF16 candidate shows it: finite everywhere (BF16 has float32's range). */
  private static TensorRow bf16Row(String node, double err, double refMax) {
    return TensorRow.of(node + "_out", node, "Pow", err, err, err <= 1e-2)
        .withEvidence(refMax, 1000, 0, refMax > 65504 ? 12 : 0, 0, 0);
  }

  private static RootCause classify(String candidate, TensorRow r) {
    return RootCauseAnalyzer.classify(
        r.node(),
        "Pow",
        null,
        List.of(r),
        null,
        r.node(),
        RootCauseAnalyzer.TypeFacts.of(candidate));
  }

  @Test
  void valuesBeyond65504OverflowFp16ButAreRoundingInBf16() {
    TensorRow big = row("sq", 0.03, 9.0e4, 0);
    assertThat(classify("trt:fp16", big).cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    RootCause bf16 = classify("trt:bf16-strong", bf16Row("sq", 0.03, 9.0e4));
    assertThat(bf16.cause()).isEqualTo(RootCause.Cause.ROUNDING_ACCUMULATION);
    assertThat(bf16.evidence()).contains("no value beyond BF16's range");
    assertThat(bf16.suggestions())
        .anySatisfy(s -> assertThat(s).contains("BF16 trades precision for range", "2^-8"));
    // strongly typed: the fix is the Cast-placed model, not --layerPrecisions
    assertThat(bf16.suggestions().get(0))
        .contains("--type bf16", "model-bf16.onnx", "--stronglyTyped")
        .doesNotContain("--layerPrecisions");
  }

  @Test
  void tinyValuesUnderflowFp16ButNotBf16() {
    TensorRow tiny = row("eps", 0.02, 1e-3, 500);
    assertThat(classify("ort:fp16-emulated", tiny).cause()).isEqualTo(RootCause.Cause.UNDERFLOW);
    assertThat(classify("ort:bf16-emulated", tiny).cause())
        .isEqualTo(RootCause.Cause.ROUNDING_ACCUMULATION);
  }

  @Test
  void strongFp16PinAdviceAndTheTypeInTheBackendPair() {
    RootCause c = classify("trt:fp16-strong", row("sq", 0.03, 9.0e4, 0));
    assertThat(c.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    assertThat(c.suggestions().get(0))
        .contains("surgeon fp16 MODEL --plan plan.json -o model-fp16.onnx", "--stronglyTyped")
        .doesNotContain("--type bf16");
    assertThat(BackendPair.of("ort:fp32", "ort:bf16-emulated").candidateType())
        .isEqualTo(LowPrecision.BF16);
    assertThat(BackendPair.of("trt:fp32", "trt:fp16").lowPrecision()).isEqualTo("fp16");
  }
}
