package dev.halfbisect.trt.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 18 and 21 (CPU part): worker pools per device entry over the fake worker. The fake worker
 * names the {@code CUDA_VISIBLE_DEVICES} it was started with, which is how a worker is pinned to
 * its GPU.
 */
class WorkerPoolTest {
  private static final TrtSettings SETTINGS =
      new TrtSettings(
          Path.of("target/fake-cache"),
          Duration.ofSeconds(5),
          Duration.ofSeconds(5),
          20,
          0,
          "-Xmx64m -XX:TieredStopAtLevel=1");
  private WorkerPool pool;

  private WorkerPool pool(List<Integer> devices, int workers) {
    pool =
        new WorkerPool(
            "fake",
            (label, device) -> {
              Map<String, String> env = new HashMap<>(WorkerPool.environment(device));
              env.put("HB_FAKE_REPORT_DEVICE", "1");
              return WorkerClient.start(
                  label, WorkerPool.javaCommand(SETTINGS, FakeWorkerMain.class.getName()), env);
            },
            20,
            devices,
            workers);
    return pool;
  }

  @AfterEach
  void stop() {
    if (pool != null) {
      pool.shutdown();
    }
  }

  @Test
  void busyWorkersMakeTheNextBuildGoToAnotherDevice() throws Exception {
    WorkerPool p = pool(List.of(0, 1), 1);
    WorkerPool.Worker a = p.acquireForBuild();
    WorkerPool.Worker b = p.acquireForBuild();
    assertThat(a.device()).isZero();
    assertThat(b.device()).isEqualTo(1);
    assertThat(List.of(a.pool(), b.pool())).containsExactly(0, 1);
    // Both pools full: the third build shares the least busy worker.
    WorkerPool.Worker c = p.acquireForBuild();
    assertThat(p.startedWorkers()).isEqualTo(2);
    assertThat(c).isIn(a, b);
    p.sessionEnded(a);
    p.sessionEnded(b);
    p.sessionEnded(c);
    // Idle workers are reused, not multiplied.
    WorkerPool.Worker d = p.acquireForBuild();
    assertThat(d).isIn(a, b);
    assertThat(p.startedWorkers()).isEqualTo(2);
  }

  @Test
  void eachWorkerSeesOnlyItsGpu() throws Exception {
    WorkerPool p = pool(List.of(0, 1), 1);
    var model = dev.halfbisect.trt.TestModelsAccess.smallModel();
    try (var s0 = dev.halfbisect.trt.TestModelsAccess.open(p, SETTINGS, model);
        var s1 = dev.halfbisect.trt.TestModelsAccess.open(p, SETTINGS, model)) {
      assertThat(s0.buildStats().warnings()).contains("device 0");
      assertThat(s1.buildStats().warnings()).contains("device 1");
    }
  }

  @Test
  void twoPoolsOnDeviceZeroIsTheOneGpuFallback() throws Exception {
    WorkerPool p = pool(List.of(0, 0), 1);
    WorkerPool.Worker a = p.acquireForBuild();
    WorkerPool.Worker b = p.acquireForBuild();
    assertThat(a.client().pid()).isNotEqualTo(b.client().pid());
    assertThat(List.of(a.device(), b.device())).containsExactly(0, 0);
    assertThat(List.of(a.pool(), b.pool())).containsExactly(0, 1);
  }

  @Test
  void aPoolOfSeveralWorkersGrowsOnlyWhenTheyAreBusy() throws Exception {
    WorkerPool p = pool(List.of(0), 3);
    WorkerPool.Worker a = p.acquireForBuild();
    p.sessionEnded(a);
    assertThat(p.acquireForBuild()).isSameAs(a);
    WorkerPool.Worker b = p.acquireForBuild();
    WorkerPool.Worker c = p.acquireForBuild();
    assertThat(p.startedWorkers()).isEqualTo(3);
    assertThat(List.of(a, b, c)).doesNotHaveDuplicates();
    assertThat(p.liveWorkers()).hasSize(3);
  }

  @Test
  void aRunBuildingSeveralAtOnceGrowsThePoolToThatMany() throws Exception {
    WorkerPool p = pool(List.of(0), 1); // one worker per pool unless a run builds more at once
    WorkerPool.Worker a = p.acquireForBuild(3);
    WorkerPool.Worker b = p.acquireForBuild(3);
    WorkerPool.Worker c = p.acquireForBuild(3);
    assertThat(List.of(a, b, c)).doesNotHaveDuplicates();
    assertThat(p.acquireForBuild(3)).isIn(a, b, c); // three busy, room for three: shared
    assertThat(p.startedWorkers()).isEqualTo(3);
    // a run of one build at a time does not grow it
    WorkerPool q = pool(List.of(0), 1);
    WorkerPool.Worker x = q.acquireForBuild(1);
    assertThat(q.acquireForBuild(1)).isSameAs(x);
    assertThat(q.startedWorkers()).isEqualTo(1);
    q.shutdown();
  }

  @Test
  void gpuMemoryLowersTheDefaultWorkerCount() {
    WorkerPool p = pool(List.of(0), 4);
    p.fitToGpuMemory(143_771); // an H200: room for 8 workers of 16 GiB, so 4 stay
    assertThat(p.workersPerPool()).isEqualTo(4);
    p.fitToGpuMemory(24_000); // a 24 GB card: one
    assertThat(p.workersPerPool()).isEqualTo(1);
  }

  @Test
  void settingsParseTheDeviceListAndWorkers() {
    TrtSettings s = TrtSettings.from(Map.of(TrtSettings.DEVICES, "0, 1", TrtSettings.WORKERS, "3"));
    assertThat(s.devices()).containsExactly(0, 1);
    assertThat(s.workers()).isEqualTo(3);
    assertThat(TrtSettings.from(Map.of(TrtSettings.DEVICE, "2")).devices()).containsExactly(2);
    assertThat(TrtSettings.defaultWorkers(16)).isEqualTo(4);
    assertThat(TrtSettings.defaultWorkers(64)).isEqualTo(4);
    assertThat(TrtSettings.defaultWorkers(2)).isEqualTo(1);
    assertThatThrownBy(() -> TrtSettings.from(Map.of(TrtSettings.DEVICES, "0,gpu1")))
        .hasMessageContaining("halfbisect.trt.devices")
        .hasMessageContaining("0,gpu1");
    assertThatThrownBy(() -> TrtSettings.from(Map.of(TrtSettings.WORKERS, "0")))
        .hasMessageContaining("halfbisect.trt.workers");
  }

  @Test
  void timeoutsBelowOneSecondAreRefusedNamingTheProperty() {
    // 0 made every build a "worker killed" crash at once
    assertThatThrownBy(() -> TrtSettings.from(Map.of(TrtSettings.BUILD_TIMEOUT, "0")))
        .hasMessage("halfbisect.trt.buildTimeoutSeconds must be at least 1 second, got 0");
    assertThatThrownBy(() -> TrtSettings.from(Map.of(TrtSettings.RUN_TIMEOUT, "-5")))
        .hasMessage("halfbisect.trt.runTimeoutSeconds must be at least 1 second, got -5");
  }

  @Test
  void deviceIndexesPickFromTheDevicesThisProcessSees() {
    assertThat(WorkerPool.environment(1, null)).containsEntry("CUDA_VISIBLE_DEVICES", "1");
    assertThat(WorkerPool.environment(1, " ")).containsEntry("CUDA_VISIBLE_DEVICES", "1");
    // CUDA_VISIBLE_DEVICES=2,3 set by the user: device 1 is GPU 3, never GPU 1
    assertThat(WorkerPool.environment(0, "2,3")).containsEntry("CUDA_VISIBLE_DEVICES", "2");
    assertThat(WorkerPool.environment(1, "2, 3")).containsEntry("CUDA_VISIBLE_DEVICES", "3");
    assertThat(WorkerPool.environment(0, "GPU-8f2c"))
        .containsEntry("CUDA_VISIBLE_DEVICES", "GPU-8f2c");
    assertThatThrownBy(() -> WorkerPool.environment(2, "2,3"))
        .hasMessageStartingWith(
            "CUDA device index 2 is beyond CUDA_VISIBLE_DEVICES=2,3 (2 visible");
  }

  @Test
  void halfbisectsCacheDirMovesTheTimingCachesToo() {
    String before = System.getProperty("halfbisect.cacheDir");
    try {
      System.setProperty("halfbisect.cacheDir", "/data/hb-cache");
      assertThat(TrtSettings.fromSystem().cacheDir())
          .isEqualTo(java.nio.file.Path.of("/data/hb-cache/trt"));
      assertThat(TrtSettings.from(Map.of(TrtSettings.CACHE_DIR, "/x")).cacheDir())
          .isEqualTo(java.nio.file.Path.of("/x"));
      System.clearProperty("halfbisect.cacheDir");
      assertThat(TrtSettings.fromSystem().cacheDir())
          .isEqualTo(
              java.nio.file.Path.of(
                  System.getProperty("user.home"), ".cache", "halfbisect", "trt"));
    } finally {
      if (before != null) {
        System.setProperty("halfbisect.cacheDir", before);
      }
    }
  }
}
