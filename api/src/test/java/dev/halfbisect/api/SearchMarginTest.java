package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.report.model.OutputPassRate;
import dev.halfbisect.report.model.SampleSummary;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code --search-margin}: a plan found at 98% of its bound on one TensorRT build erred at 129% on
 * a rebuild (H200, docs/PERFORMANCE.md), so the search can be asked to keep room below the bound.
 */
class SearchMarginTest {
  /** The chain's all-FP16 error on the interpreter's emulation: only rounding, at every node. */
  private static double allFp16Error() {
    return chain(Tolerance.fp16Default()).compare().outputs().get(0).normalizedError();
  }

  private static HalfBisect chain(Tolerance t) {
    return HalfBisect.model(TestModels.roundingChain(), null, "chain.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .tolerance(t);
  }

  @Test
  void aMarginMakesTheSearchPinUntilTheOutputsKeepThatRoom() {
    double e = allFp16Error();
    assertThat(e).isPositive();
    double bound = e / 0.7; // all-FP16 passes at 70% of the bound
    PrecisionResult plain = chain(Tolerance.normalized(bound)).precision();
    assertThat(plain.fp32Nodes()).isEmpty();
    assertThat(plain.report().warnings()).noneMatch(w -> w.contains("searched with a margin"));

    PrecisionResult kept = chain(Tolerance.normalized(bound)).searchMargin(0.5).precision();
    assertThat(kept.passed()).isTrue();
    assertThat(kept.fp32Nodes()).isNotEmpty();
    OutputPassRate y = kept.report().samples().outputs().get(0);
    assertThat(y.boundShare())
        .as("within the margin, measured against the whole bound")
        .isLessThanOrEqualTo(0.5);
    assertThat(kept.report().tolerance().normalizedErrorLimit())
        .as("the report states the verdict's bound, not the search's")
        .isEqualTo(bound);
    assertThat(kept.report().warnings())
        .anySatisfy(
            w ->
                assertThat(w)
                    .contains("searched with a margin (--search-margin 0.5)", "50% of the bound"));
  }

  @Test
  void aMarginScalesOnlyTheNormalizedCheck() {
    assertThatThrownBy(() -> chain(Tolerance.elementwise(1e-3, 0)).searchMargin(0.5).precision())
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining("--search-margin 0.5 scales the normalized-error bound")
        .hasMessageContaining("tighten those bounds instead");
    assertThatThrownBy(() -> chain(Tolerance.fp16Default()).searchMargin(0))
        .hasMessageContaining("search margin must be in (0, 1], got 0.0");
    assertThatThrownBy(() -> chain(Tolerance.fp16Default()).searchMargin(1.5))
        .hasMessageContaining("(0, 1]");
  }

  @Test
  void aTensorRtPlanCloseToItsBoundSaysARebuildCanErrMore() {
    SampleSummary near =
        new SampleSummary(1, 1, 0, "y", List.of(new OutputPassRate("y", 1, 1, 0, 2.94e-3, 0.98)));
    SampleSummary far =
        new SampleSummary(1, 1, 0, "y", List.of(new OutputPassRate("y", 1, 1, 0, 1.5e-3, 0.5)));
    BackendSpec trt = new BackendSpec("trt", "fp16-strong");
    assertThat(Operations.nearBoundNote(near, trt, false))
        .hasValueSatisfying(
            n -> assertThat(n).contains("passes at 98% of the bound (y)", "--search-margin 0.75"));
    assertThat(Operations.nearBoundNote(far, trt, false)).isEmpty();
    assertThat(Operations.nearBoundNote(near, trt, true)).as("a margin was asked for").isEmpty();
    assertThat(Operations.nearBoundNote(near, new BackendSpec("ort", "fp16-emulated"), false))
        .as("ONNX Runtime's CPU kernels do not change between builds")
        .isEmpty();
  }
}
