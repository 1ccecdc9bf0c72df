package dev.halfbisect.trt.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Crash, hang and protocol-break handling with a fake worker process (no TensorRT needed). */
class WorkerCrashTest {
  private final TrtSettings settings =
      new TrtSettings(
          Path.of("target/fake-cache"),
          Duration.ofSeconds(3),
          Duration.ofSeconds(3),
          2,
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

  private static Request.Build build(String name) {
    return new Request.Build(
        1,
        name,
        new byte[0],
        "fp16",
        com.google.common.collect.ImmutableList.of(),
        com.google.common.collect.ImmutableList.of(),
        com.google.common.collect.ImmutableMap.of("x", new long[] {1, 4}),
        com.google.common.collect.ImmutableMap.of());
  }

  private String probe() throws BackendCrashException {
    return ((Response.Ok) pool.acquire().client().call(new Request.Probe(), Duration.ofSeconds(20)))
        .info();
  }

  @Test
  void workersExtractJavaCppLibrariesBesideTheTimingCaches() {
    assertThat(WorkerPool.javaCommand(settings, "Main"))
        .contains(
            "-Dorg.bytedeco.javacpp.cachedir=" + Path.of("target/fake-cache").resolve("javacpp"));
    TrtSettings own =
        new TrtSettings(
            Path.of("c"),
            Duration.ofSeconds(3),
            Duration.ofSeconds(3),
            2,
            0,
            "-Dorg.bytedeco.javacpp.cachedir=/elsewhere");
    assertThat(WorkerPool.javaCommand(own, "Main"))
        .filteredOn(a -> a.contains("javacpp.cachedir"))
        .containsExactly("-Dorg.bytedeco.javacpp.cachedir=/elsewhere");
  }

  @Test
  void aWorkersJvmCrashReportStaysOutOfTheUsersFolder() throws Exception {
    assertThat(WorkerPool.javaCommand(settings, "Main"))
        .contains(
            "-XX:ErrorFile=" + Path.of("target/fake-cache").resolve("hs_err_worker_pid%p.log"));
    // the flags are ones this JVM accepts: a worker started with them still answers
    assertThat(probe()).startsWith("fake worker pid");
    // a % in the folder is HotSpot's escape character there
    TrtSettings percent =
        new TrtSettings(Path.of("50%"), Duration.ofSeconds(3), Duration.ofSeconds(3), 2, 0, "");
    assertThat(WorkerPool.javaCommand(percent, "Main"))
        .contains("-XX:ErrorFile=" + Path.of("50%%").resolve("hs_err_worker_pid%p.log"));
  }

  @Test
  void aCrashingBuildIsABackendCrashAndTheNextProbeGetsANewWorker() throws Exception {
    String first = probe();
    WorkerPool.Worker w = pool.acquireForBuild();
    assertThatThrownBy(() -> w.client().call(build("crash"), settings.buildTimeout()))
        .isInstanceOf(BackendCrashException.class)
        .hasMessageContaining("exit code 3")
        .hasMessageContaining("simulated segfault");
    assertThat(w.client().alive()).isFalse();
    // the dead worker refuses further calls with the same exception type
    assertThatThrownBy(() -> w.client().call(new Request.Probe(), Duration.ofSeconds(1)))
        .isInstanceOf(BackendCrashException.class)
        .hasMessageContaining("no longer running");
    pool.sessionEnded(w);
    String second = probe();
    assertThat(second).startsWith("fake worker pid").isNotEqualTo(first);
    assertThat(pool.startedWorkers()).isEqualTo(2);
  }

  @Test
  void aWorkerStoppedBySigtermIsReportedAsAnInterruptionNotACrash() throws Exception {
    WorkerPool.Worker w = pool.acquireForBuild();
    assertThatThrownBy(() -> w.client().call(build("sigterm"), settings.buildTimeout()))
        .isInstanceOf(BackendCrashException.class)
        .hasMessageContaining("was stopped by SIGTERM: halfbisect was interrupted")
        .hasMessageContaining("not a TensorRT failure")
        .hasMessageNotContaining("crashed");
    assertThat(w.client().alive()).isFalse();
    pool.sessionEnded(w);
  }

  @Test
  void aHangingBuildIsKilledAtItsTimeLimit() throws Exception {
    WorkerPool.Worker w = pool.acquireForBuild();
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> w.client().call(build("hang"), settings.buildTimeout()))
        .isInstanceOf(BackendCrashException.class)
        .hasMessageContaining("time limit of 3 s");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
    assertThat(w.client().alive()).isFalse();
    pool.sessionEnded(w);
    assertThat(probe()).startsWith("fake worker pid");
    assertThat(pool.startedWorkers()).isEqualTo(2);
  }

  @Test
  void strayStdoutOutputIsACrashNotGarbledData() throws Exception {
    WorkerPool.Worker w = pool.acquireForBuild();
    assertThatThrownBy(() -> w.client().call(build("garbage"), settings.buildTimeout()))
        .isInstanceOf(BackendCrashException.class)
        .hasMessageContaining("stdout");
  }

  @Test
  void workersAreRecycledAfterTheConfiguredBuildCount() throws Exception {
    long[] pids = new long[5];
    for (int i = 0; i < 5; i++) {
      WorkerPool.Worker w = pool.acquireForBuild();
      pids[i] = w.client().pid();
      assertThat(w.client().call(build("ok"), settings.buildTimeout()))
          .isInstanceOf(Response.Built.class);
      pool.sessionEnded(w);
    }
    assertThat(pids[0]).isEqualTo(pids[1]);
    assertThat(pids[2]).isNotEqualTo(pids[1]).isEqualTo(pids[3]);
    assertThat(pids[4]).isNotEqualTo(pids[3]);
    assertThat(pool.startedWorkers()).isEqualTo(3);
  }
}
