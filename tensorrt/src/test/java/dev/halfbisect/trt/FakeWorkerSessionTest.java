package dev.halfbisect.trt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.Timing;
import dev.halfbisect.core.backend.TimingRequest;
import dev.halfbisect.trt.client.FakeWorkerMain;
import dev.halfbisect.trt.client.TrtSettings;
import dev.halfbisect.trt.client.WorkerClient;
import dev.halfbisect.trt.client.WorkerPool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The session proxy over a fake worker: lazy builds for dynamic shapes, rebuilds, crash surfacing.
 */
class FakeWorkerSessionTest {
  private final TrtSettings settings =
      new TrtSettings(
          Path.of("target/fake-cache"),
          Duration.ofSeconds(3),
          Duration.ofSeconds(3),
          20,
          0,
          "-Xmx64m -XX:TieredStopAtLevel=1");
  private final WorkerPool pool =
      new WorkerPool(
          "fake",
          label ->
              WorkerClient.start(
                  label,
                  WorkerPool.javaCommand(settings, FakeWorkerMain.class.getName()),
                  Map.of()),
          settings.recycleAfterBuilds());

  @AfterEach
  void stop() {
    pool.shutdown();
  }

  @Test
  void probeThroughThePoolIsAvailable() {
    Availability a = TensorRtBackend.probe(pool, Duration.ofSeconds(20));
    assertThat(a.available()).isTrue();
    assertThat(a.reason()).startsWith("fake worker pid");
  }

  @Test
  void dynamicModelBuildsOnFirstRunAndRebuildsWhenShapesChange() throws Exception {
    byte[] model = TestModels.overflowLayerNorm(4, 8, 1f, true);
    try (BackendSession s =
        TrtSession.open(
            pool, settings, ModelRef.ofBytes("ok", model, null), BuildOptions.of("fp16"))) {
      assertThat(s.buildStats().warnings()).anyMatch(w -> w.contains("not built yet"));
      assertThat(s.outputNames()).containsExactly("y", "y_pos", "y_arg", "y_i32");
      Tensor x1 = Tensor.ofFloats(new long[] {1, 4, 8}, TestModels.normalInput(32, 1));
      RunResult r = s.run(Map.of("x", x1));
      assertThat(r.get("y")).isEqualTo(x1);
      assertThat(s.inputs().get(0).shape()).containsExactly(1, 4, 8);
      Tensor x2 = Tensor.ofFloats(new long[] {2, 4, 8}, TestModels.normalInput(64, 2));
      assertThat(s.run(Map.of("x", x2)).get("y")).isEqualTo(x2);
      assertThat(s.buildStats().warnings())
          .contains("built 2 times because sample input shapes changed");
      assertThatThrownBy(() -> s.run(Map.of("z", x1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expects inputs [x]");
    }
  }

  @Test
  void timingGoesToTheWorkerAndComesBackAsGpuEventTimes() throws Exception { // issue 20
    byte[] model = TestModels.overflowLayerNorm(4, 8, 1f, true);
    try (BackendSession s =
        TrtSession.open(
            pool, settings, ModelRef.ofBytes("ok", model, null), BuildOptions.of("fp16"))) {
      Tensor x = Tensor.ofFloats(new long[] {3, 4, 8}, TestModels.normalInput(96, 1));
      Timing t = s.time(Map.of("x", x), new TimingRequest(2, 5));
      assertThat(t.clock()).isEqualTo(Timing.Clock.GPU_EVENTS);
      assertThat(t.clock().measuresFp16Speed()).isTrue();
      assertThat(t.warmup()).isEqualTo(2);
      assertThat(t.millis()).containsExactly(1.0, 2.0, 3.0, 4.0, 5.0);
      assertThat(t.medianMillis()).isEqualTo(3.0);
      assertThat(s.inputs().get(0).shape()).containsExactly(3, 4, 8); // built for the timed shape
    }
  }

  @Test
  void crashingBuildSurfacesAsBackendCrashAndTheNextOpenWorks() throws Exception {
    byte[] model = TestModels.overflowLayerNorm(4, 8, 1f, false);
    assertThatThrownBy(
            () ->
                TrtSession.open(
                    pool,
                    settings,
                    ModelRef.ofBytes("crash", model, null),
                    BuildOptions.of("fp16")))
        .isInstanceOf(BackendCrashException.class);
    try (BackendSession s =
        TrtSession.open(
            pool, settings, ModelRef.ofBytes("ok", model, null), BuildOptions.of("fp16"))) {
      assertThat(s.buildStats().warnings()).containsExactly("fake warning");
    }
    assertThat(pool.startedWorkers()).isEqualTo(2);
  }

  @Test
  void fp16StrongSendsTheOnnxSurgeryRewriteToTheWorker() throws Exception {
    byte[] model = TestModels.overflowLayerNorm(4, 8, 1f, false);
    try (BackendSession s =
        TrtSession.open(
            pool,
            settings,
            ModelRef.ofBytes("ok", model, null),
            BuildOptions.of(
                "fp16-strong",
                dev.halfbisect.core.plan.PrecisionPlan.fp16Except(TestModels.LAYER_NORM_NODES)))) {
      // the worker got the rewritten model: the weights of unpinned nodes (W, B, c_scale, ...) are
      // FP16
      String w =
          s.buildStats().warnings().stream()
              .filter(x -> x.startsWith("mode strong"))
              .findFirst()
              .orElseThrow();
      assertThat(Integer.parseInt(w.substring(w.indexOf('=') + 1))).isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void bf16StrongSendsABf16RewriteAndThePinsForThePlanCheck() throws Exception {
    byte[] model = TestModels.overflowLayerNorm(4, 8, 1f, false);
    try (BackendSession s =
        TrtSession.open(
            pool,
            settings,
            ModelRef.ofBytes("ok", model, null),
            BuildOptions.of(
                "bf16-strong",
                dev.halfbisect.core.plan.PrecisionPlan.fp16Except(TestModels.LAYER_NORM_NODES)),
            "a note")) {
      assertThat(s.buildStats().warnings()).first().isEqualTo("a note");
      assertThat(s.buildStats().warnings()).contains("mode strong, fp16 initializers=0");
      String w =
          s.buildStats().warnings().stream()
              .filter(x -> x.startsWith("bf16 initializers"))
              .findFirst()
              .orElseThrow();
      assertThat(w)
          .doesNotStartWith("bf16 initializers 0,")
          .endsWith("pins " + TestModels.LAYER_NORM_NODES.size());
    }
  }

  @Test
  void constantFoldedObservationsBecomeUnobservableTensorsException() {
    var folded =
        new dev.halfbisect.trt.protocol.Response.Failure(
            dev.halfbisect.trt.protocol.Response.FailureKind.UNOBSERVABLE,
            "no tensor named [/Constant_output_0]",
            com.google.common.collect.ImmutableList.of("/Constant_output_0"));
    assertThat(TrtSession.failure(folded, "building m"))
        .isInstanceOfSatisfying(
            dev.halfbisect.core.backend.UnobservableTensorsException.class,
            e -> assertThat(e.tensors()).containsExactly("/Constant_output_0"));
  }

  @Test
  void theProbeAnswerNamesTheGpuMemoryThePoolsAreSizedBy() {
    assertThat(
            TensorRtBackend.gpuMemoryMiB(
                "TensorRT 10.6.0 on NVIDIA H200 (compute capability 9.0, 143771 MiB), timing cache x"))
        .hasValue(143771);
    assertThat(TensorRtBackend.gpuMemoryMiB("fake worker pid 12")).isEmpty();
  }

  @Test
  void theWorkersBuildKeysGoFromSystemPropertiesIntoEachBuildRequest() throws Exception {
    // the worker reads workspaceMiB and observedAs from the request, not from its own JVM: a -D on
    // the command line must travel with each build (build properties win)
    WorkerPool reporting =
        new WorkerPool(
            "fake-props",
            label ->
                WorkerClient.start(
                    label,
                    WorkerPool.javaCommand(settings, FakeWorkerMain.class.getName()),
                    Map.of("HB_FAKE_REPORT_PROPERTIES", "1")),
            settings.recycleAfterBuilds());
    byte[] model = TestModels.overflowLayerNorm(4, 8, 1f, false);
    System.setProperty("halfbisect.trt.observedAs", "fp16");
    System.setProperty("halfbisect.trt.workspaceMiB", "512");
    System.setProperty("halfbisect.trt.dumpEngineInfo", "target/engine-info");
    System.setProperty("halfbisect.trt.builderOptimizationLevel", "1");
    try (BackendSession s =
        TrtSession.open(
            reporting,
            settings,
            ModelRef.ofBytes("ok", model, null),
            BuildOptions.of("fp16").withProperty("halfbisect.trt.workspaceMiB", "256"))) {
      assertThat(s.buildStats().warnings())
          .contains(
              "properties {halfbisect.trt.builderOptimizationLevel=1,"
                  + " halfbisect.trt.dumpEngineInfo=target/engine-info,"
                  + " halfbisect.trt.observedAs=fp16, halfbisect.trt.workspaceMiB=256}");
      assertThat(new TensorRtBackend().buildSettings())
          .as("the facade adds these to the candidate's properties: journals are keyed on them")
          .containsEntry("halfbisect.trt.observedAs", "fp16")
          .containsEntry("halfbisect.trt.workspaceMiB", "512")
          .containsEntry("halfbisect.trt.builderOptimizationLevel", "1");
      System.setProperty("halfbisect.trt.builderOptimizationLevel", "6");
      assertThatThrownBy(() -> openFp16(reporting, model))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "property halfbisect.trt.builderOptimizationLevel must be a TensorRT builder"
                  + " optimization level from 0 to 5, got 6");
      System.clearProperty("halfbisect.trt.builderOptimizationLevel");
      System.setProperty("halfbisect.trt.observedAs", "half");
      assertThatThrownBy(() -> openFp16(reporting, model))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("halfbisect.trt.observedAs must be fp32 or fp16, got 'half'");
    } finally {
      System.clearProperty("halfbisect.trt.observedAs");
      System.clearProperty("halfbisect.trt.workspaceMiB");
      System.clearProperty("halfbisect.trt.dumpEngineInfo");
      System.clearProperty("halfbisect.trt.builderOptimizationLevel");
      reporting.shutdown();
    }
  }

  private BackendSession openFp16(WorkerPool pool, byte[] model) throws Exception {
    return TrtSession.open(
        pool, settings, ModelRef.ofBytes("ok", model, null), BuildOptions.of("fp16"));
  }

  @Test
  void shapesPropertyParses() {
    assertThat(
            TrtSession.parseShapes("input_ids:1x128, attention_mask:1x128").get("attention_mask"))
        .containsExactly(1, 128);
    assertThat(TrtSession.parseShapes(null)).isEmpty();
    assertThatThrownBy(() -> TrtSession.parseShapes("x:1xA")).hasMessageContaining("non-numeric");
  }
}
