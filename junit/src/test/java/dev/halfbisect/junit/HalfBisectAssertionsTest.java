package dev.halfbisect.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

class HalfBisectAssertionsTest {
  @TempDir Path reports;

  private static HalfBisect overflow() {
    return HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated");
  }

  private static HalfBisect healthy() {
    return HalfBisect.model(TestModels.healthy(), null, "healthy.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated");
  }

  @Test
  void passingModelPasses() {
    HalfBisectAssertions.assertPassesInFp16(healthy(), Tolerance.fp16Default(), reports);
    HalfBisectAssertions.assertFirstDivergenceNotBefore(healthy(), "relu");
    assertThat(reports).isEmptyDirectory();
  }

  @Test
  void failureMessageShowsFirstFailingTensorRootCauseAndReport() throws Exception {
    assertThatThrownBy(
            () ->
                HalfBisectAssertions.assertPassesInFp16(
                    overflow(), Tolerance.fp16Default(), reports))
        .isInstanceOf(AssertionFailedError.class)
        .satisfies(
            e -> {
              String m = e.getMessage();
              assertThat(m)
                  .contains(
                      "assertPassesInFp16: expected the FP16 candidate to pass",
                      "\ncompare: FAIL (reference interp:fp32, candidate interp:fp16-emulated)",
                      "first failing node: 'square' (Pow), tensor squared",
                      "root cause: overflow in 'square'",
                      "\nfix to try: ",
                      "report: " + reports.toAbsolutePath());
              assertThat(m).doesNotContain("diagnose");
              assertThat(Files.readString(reportPath(m))).contains("<html", "squared");
            });
  }

  @Test
  void aReportFolderThatCannotBeWrittenDoesNotHideTheFp16Failure() throws Exception {
    // a regular file where the folder should be: the test got an UncheckedIOException and lost
    // the diagnosis
    Path file = java.nio.file.Files.writeString(reports.resolve("not-a-folder"), "x");
    assertThatThrownBy(
            () ->
                HalfBisectAssertions.assertPassesInFp16(overflow(), Tolerance.fp16Default(), file))
        .isInstanceOf(org.opentest4j.AssertionFailedError.class)
        .hasMessageContaining("first failing node: 'square'")
        .hasMessageContaining("report: not written (cannot create the report folder");
  }

  @Test
  void forcedFailureWithAToleranceThatCannotPass() {
    // Normalized error 1e-9 cannot pass FP16 rounding: the message names the first rounded tensor.
    // (A limit of exactly 0 makes the report's error chart loop: reported to the report module.)
    assertThatThrownBy(
            () ->
                HalfBisectAssertions.assertPassesInFp16(
                    healthy(), Tolerance.normalized(1e-9), reports))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("first failing node: ")
        .hasMessageContaining("normalized error")
        .hasMessageContaining("root cause:")
        .satisfies(e -> assertThat(reportPath(e.getMessage())).isRegularFile().startsWith(reports));
  }

  @Test
  void firstDivergenceNotBefore() {
    HalfBisectAssertions.assertFirstDivergenceNotBefore(overflow(), "square", reports);
    assertThatThrownBy(
            () ->
                HalfBisectAssertions.assertFirstDivergenceNotBefore(overflow(), "shrink", reports))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("node 'square' fails before it");
    assertThatThrownBy(
            () -> HalfBisectAssertions.assertFirstDivergenceNotBefore(overflow(), "nosuch"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nosuch");
  }

  @Test
  void planPasses() {
    HalfBisectAssertions.assertPlanPasses(
        overflow(), PrecisionPlan.fp16Except(List.of("square", "shrink")), reports);
    assertThatThrownBy(
            () ->
                HalfBisectAssertions.assertPlanPasses(
                    overflow(), PrecisionPlan.fp16Except(List.of("square")), reports))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("assertPlanPasses: ")
        .hasMessageContaining("compare: FAIL")
        .hasMessageContaining("first failing node: 'shrink' (Mul), tensor shrunk");
  }

  @Test
  void requiresTensorRtSkipsWithReasonWithoutTheBackend() {
    var r = TensorRtCondition.evaluate();
    assertThat(r.isDisabled()).isTrue();
    assertThat(r.getReason()).get().asString().contains("TensorRT not available");
  }

  @Test
  @RequiresTensorRT
  void annotatedTestIsSkippedHere() {
    throw new AssertionError("must not run without TensorRT");
  }

  private static Path reportPath(String message) {
    Matcher m = Pattern.compile("report: (.+\\.html)").matcher(message);
    assertThat(m.find()).as(message).isTrue();
    return Path.of(m.group(1));
  }
}
