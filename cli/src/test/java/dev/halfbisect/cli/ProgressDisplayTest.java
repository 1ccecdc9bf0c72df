package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressDisplayTest {
  private final AtomicLong now = new AtomicLong();
  private final StringWriter text = new StringWriter();

  private ProgressDisplay display(ProgressDisplay.Style style, int columns) {
    return new ProgressDisplay(new PrintWriter(text, true), style, columns, now::get, false);
  }

  private void advance(int seconds) {
    now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
  }

  @Test
  void barShowsPhaseBuildsOfBoundElapsedEtaAndWhatRunsFromTheFirstSecond() {
    ProgressDisplay d = display(ProgressDisplay.Style.BAR, 200);
    d.phase("bisect", -1);
    d.phase("bisect", 12);
    d.running("candidate: TensorRT FP16 build");
    advance(1);
    d.tick();
    assertThat(d.barText())
        .isEqualTo(
            "bisect [--------------------] 0/12 builds 0:01 | candidate: TensorRT FP16 build 0:01");
    advance(9);
    d.step(1, "full/candidate");
    d.running("candidate: TensorRT FP16 build");
    advance(30);
    // 1 build in 10 s: 11 left, 1:50, less the 0:30 the running build has taken; it has its own
    // clock
    assertThat(d.barText())
        .isEqualTo(
            "bisect [#-------------------] 1/12 builds 0:40 ETA 1:20 | candidate: TensorRT FP16 build 0:30");
    assertThat(text.toString()).startsWith("\r").doesNotContain("\n");
    d.finished();
    assertThat(text.toString()).endsWith("\r");
  }

  @Test
  void theLabelFollowsThePhaseAndTheBarIsCutToTheTerminalNeverWrapped() {
    ProgressDisplay d = display(ProgressDisplay.Style.BAR, 40);
    d.phase("layerwise", -1);
    d.running("reference: ONNX Runtime FP32 build with a very long label");
    assertThat(d.barText())
        .hasSize(39)
        .startsWith("layerwise 0 builds 0:00 | reference")
        .endsWith("...");
    d.step(1, "x");
    d.phase("amplify", -1);
    assertThat(d.barText()).startsWith("amplify 0 builds");
  }

  @Test
  void linesWhenNotATerminal() {
    ProgressDisplay d = display(ProgressDisplay.Style.LINES, 100);
    d.phase("precision", -1);
    d.running("candidate: ONNX Runtime FP16-emulated build");
    advance(ProgressDisplay.LINE_PERIOD_SECONDS);
    d.tick();
    advance(5);
    d.tick(); // within the period: no line
    d.step(1, "full/candidate");
    d.finished();
    assertThat(text.toString())
        .doesNotContain("\r")
        .isEqualTo(
            String.join(
                System.lineSeparator(),
                "halfbisect [0:00] phase precision",
                "halfbisect [0:00] candidate: ONNX Runtime FP16-emulated build started",
                "halfbisect [0:30] candidate: ONNX Runtime FP16-emulated build still running, 0:30",
                "halfbisect [0:35] candidate: ONNX Runtime FP16-emulated build done in 0:35 (1 build"
                    + " in precision)",
                ""));
  }

  @Test
  void aReferenceBuildInsideACandidateProbeGivesTheLabelBack() {
    ProgressDisplay d = display(ProgressDisplay.Style.LINES, 100);
    d.phase("bisect", -1);
    d.phase("bisect", 6);
    d.running("candidate: TensorRT FP16 build");
    d.running("reference: TensorRT FP32 build");
    advance(2);
    d.step(0, "reference");
    advance(3);
    d.step(1, "candidate");
    assertThat(text.toString().lines())
        .containsExactly(
            "halfbisect [0:00] phase bisect",
            "halfbisect [0:00] bisect: at most 6 candidate builds",
            "halfbisect [0:00] candidate: TensorRT FP16 build started",
            "halfbisect [0:00] reference: TensorRT FP32 build started",
            "halfbisect [0:02] reference: TensorRT FP32 build done in 0:02 (0/6 builds in bisect)",
            "halfbisect [0:05] candidate: TensorRT FP16 build done in 0:05 (1/6 builds in bisect)");
  }

  @Test
  void perfsRowsAreCountedAsRowsAndNotTimedFromNothing() {
    // perf steps through its rows without announcing builds: the line said "build done in
    // 2:44:13" (the time since the clock's zero) and counted builds
    advance(9844);
    ProgressDisplay d = display(ProgressDisplay.Style.LINES, 100);
    d.phase("perf", 3);
    advance(1);
    d.step(1, "fp32 batch 1");
    assertThat(text.toString().lines())
        .last()
        .asString()
        .endsWith("] 1/3 rows done in perf")
        .doesNotContain("build");
  }

  @Test
  void stderrTerminalDetectionLooksAtTheDeviceOfStderr() {
    assertThat(Terminal.isTerminalDevice("/dev/pts/3")).isTrue();
    assertThat(Terminal.isTerminalDevice("/dev/tty1")).isTrue();
    assertThat(Terminal.isTerminalDevice("/tmp/build.log")).isFalse();
    assertThat(Terminal.isTerminalDevice("pipe:[12345]")).isFalse();
    assertThat(ProgressDisplay.clock(TimeUnit.SECONDS.toNanos(3725))).isEqualTo("1:02:05");
  }

  @Test
  void quietMeansNoDisplay() {
    assertThat(ProgressDisplay.forStderr(true, new PrintWriter(text)))
        .isSameAs(dev.halfbisect.api.ProgressListener.NONE);
  }
}
