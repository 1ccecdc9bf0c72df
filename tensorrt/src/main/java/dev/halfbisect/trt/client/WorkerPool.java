package dev.halfbisect.trt.client;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.backend.BackendCrashException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TensorRT worker processes of this JVM: one pool per entry of the device list ({@code
 * halfbisect.trt.devices}; {@code 0,0} is two pools on GPU 0), each of up to {@code workers}
 * processes, so that parallel probes build at once (issue 18). A new build goes to an idle live
 * worker; when all are busy and a pool has room, a new worker starts in the pool with the fewest
 * (the first such pool on ties); when none has room it shares the least busy worker (requests to
 * one worker are answered in order). After {@code recycleAfterBuilds} builds, or when it died, a
 * worker is retired: it exits once its last session is closed, which is how TensorRT memory that
 * the presets cannot free (bytedeco issue 1699) is given back.
 */
public final class WorkerPool {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
  private static final Map<String, WorkerPool> SHARED = new HashMap<>();
  static final String WORKER_MAIN = "dev.halfbisect.trt.worker.WorkerMain";

  /** Starts one worker process; replaced in tests by a fake worker main. */
  public interface Launcher {
    WorkerClient launch(String label) throws IOException;
  }

  /** Starts one worker process for a CUDA device. */
  public interface DeviceLauncher {
    WorkerClient launch(String label, int device) throws IOException;
  }

  private final String name;
  private final DeviceLauncher launcher;
  private final int recycleAfterBuilds;
  private final ImmutableList<Integer> devices;
  private int workersPerPool;
  private final List<Worker> live = new ArrayList<>();
  private int started;

  /** One pool of one worker (the launcher's device is its own business). */
  public WorkerPool(String name, Launcher launcher, int recycleAfterBuilds) {
    this(name, (label, device) -> launcher.launch(label), recycleAfterBuilds, List.of(0), 1);
  }

  /**
   * @param devices one pool per entry, each on that CUDA device
   * @param workersPerPool worker processes each pool may run at once
   */
  public WorkerPool(
      String name,
      DeviceLauncher launcher,
      int recycleAfterBuilds,
      List<Integer> devices,
      int workersPerPool) {
    Preconditions.checkArgument(!devices.isEmpty(), "at least one device");
    Preconditions.checkArgument(workersPerPool >= 1, "at least one worker per pool");
    this.name = name;
    this.launcher = launcher;
    this.recycleAfterBuilds = recycleAfterBuilds;
    this.devices = ImmutableList.copyOf(devices);
    this.workersPerPool = workersPerPool;
  }

  /** The process-wide pools of the configured devices, started with the real worker main. */
  public static synchronized WorkerPool shared(TrtSettings settings) {
    return SHARED.computeIfAbsent(
        settings.devices() + "x" + settings.workers(),
        k -> {
          WorkerPool pool =
              new WorkerPool(
                  "trt",
                  (label, d) ->
                      WorkerClient.start(label, javaCommand(settings, WORKER_MAIN), environment(d)),
                  settings.recycleAfterBuilds(),
                  settings.devices(),
                  settings.workers());
          Runtime.getRuntime().addShutdownHook(new Thread(pool::shutdown, "trt-pool-shutdown"));
          return pool;
        });
  }

  /** Workers each pool may run at once. */
  public synchronized int workersPerPool() {
    return workersPerPool;
  }

  /**
   * Lowers the workers per pool to one per {@value TrtSettings#GIB_PER_WORKER} GiB of {@code
   * gpuMemoryMiB} (at least one); used when the size was not given and a worker reported its GPU.
   */
  public synchronized void fitToGpuMemory(long gpuMemoryMiB) {
    int fit = (int) Math.max(1, gpuMemoryMiB / (TrtSettings.GIB_PER_WORKER * 1024L));
    if (fit < workersPerPool) {
      LOG.info(
          "TensorRT worker pools: {} workers per pool for {} MiB of GPU memory", fit, gpuMemoryMiB);
      workersPerPool = fit;
    }
  }

  /** JavaCPP's system property for the folder it extracts native libraries into. */
  static final String JAVACPP_CACHE_DIR = "org.bytedeco.javacpp.cachedir";

  /**
   * A java command line running {@code mainClass} on this JVM's class path, with the backend's
   * settings.
   */
  public static List<String> javaCommand(TrtSettings settings, String mainClass) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.add("-Xss4m");
    for (String opt : settings.workerJvmOptions().trim().split("\\s+")) {
      if (!opt.isEmpty()) {
        cmd.add(opt);
      }
    }
    cmd.add("-D" + TrtSettings.CACHE_DIR + "=" + settings.cacheDir());
    // A worker that crashes in TensorRT's native code (seen on the H200 when the parent was
    // killed mid-build) writes its hs_err file into the working directory, which is the user's:
    // beside the timing caches instead (the protocol reader names the crash, Response.read).
    if (!settings.workerJvmOptions().contains("-XX:ErrorFile=")) {
      // HotSpot expands %p to the pid and reads %% as a literal %
      String dir = settings.cacheDir().toString().replace("%", "%%");
      cmd.add("-XX:ErrorFile=" + Path.of(dir).resolve("hs_err_worker_pid%p.log"));
    }
    if (!settings.workerJvmOptions().contains(JAVACPP_CACHE_DIR)) {
      // JavaCPP extracts its JNI libraries on first load; keep them beside the timing caches
      // instead of its default ~/.javacpp/cache.
      cmd.add("-D" + JAVACPP_CACHE_DIR + "=" + settings.cacheDir().resolve("javacpp"));
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    return cmd;
  }

  static Map<String, String> environment(int device) {
    return environment(device, System.getenv("CUDA_VISIBLE_DEVICES"));
  }

  /**
   * One GPU per worker: the worker always uses device 0 of what it sees. {@code device} indexes the
   * devices this process sees: with {@code CUDA_VISIBLE_DEVICES=2,3} already set ({@code visible}),
   * device 1 is the entry {@code 3}, never physical GPU 1 the user left out.
   *
   * @throws IllegalArgumentException when {@code device} is beyond the visible list
   */
  static Map<String, String> environment(int device, String visible) {
    if (visible == null || visible.isBlank()) {
      return Map.of("CUDA_VISIBLE_DEVICES", Integer.toString(device));
    }
    String[] entries = visible.split(",");
    if (device >= entries.length) {
      throw new IllegalArgumentException(
          "CUDA device index "
              + device
              + " is beyond CUDA_VISIBLE_DEVICES="
              + visible.trim()
              + " ("
              + entries.length
              + " visible; halfbisect.trt.device and halfbisect.trt.devices index that list)");
    }
    return Map.of("CUDA_VISIBLE_DEVICES", entries[device].trim());
  }

  private static String javaBinary() {
    Optional<String> cmd = ProcessHandle.current().info().command();
    if (cmd.isPresent() && Files.isExecutable(Path.of(cmd.get()))) {
      return cmd.get();
    }
    return Path.of(
            System.getProperty("java.home"),
            "bin",
            "java" + (File.separatorChar == '\\' ? ".exe" : ""))
        .toString();
  }

  /**
   * The worker for a new build, counting the build: an idle live worker, else a fresh one where a
   * pool has room, else the least busy one.
   *
   * @throws BackendCrashException when no worker process can be started
   */
  public synchronized Worker acquireForBuild() throws BackendCrashException {
    return acquireForBuild(0);
  }

  /**
   * As {@link #acquireForBuild()}, the pools allowed to hold {@code concurrent} workers in all
   * (spread over the devices) when that is more than their size: the caller runs that many builds
   * at once (its probe parallelism) and the worker count was not set explicitly.
   */
  public synchronized Worker acquireForBuild(int concurrent) throws BackendCrashException {
    retireSpent();
    Worker w = null;
    for (Worker c : live) {
      if (w == null || c.openSessions < w.openSessions) {
        w = c;
      }
    }
    int room = Math.max(devices.size() * workersPerPool, concurrent);
    if (w == null || (w.openSessions > 0 && live.size() < room)) {
      w = launch(emptiestPool());
    }
    w.builds++;
    w.openSessions++;
    return w;
  }

  /** A live worker for a probe (no build counted), started when there is none. */
  public synchronized Worker acquire() throws BackendCrashException {
    retireSpent();
    return live.isEmpty() ? launch(0) : live.get(0);
  }

  /** A session on {@code w} ended (closed, or its build failed). */
  public synchronized void sessionEnded(Worker w) {
    w.openSessions = Math.max(0, w.openSessions - 1);
    if (w.retired && w.openSessions == 0) {
      w.client.close();
    }
  }

  /** How many worker processes this pool has started. */
  public synchronized int startedWorkers() {
    return started;
  }

  /** The live (not retired) workers, in start order. */
  public synchronized List<Worker> liveWorkers() {
    return ImmutableList.copyOf(live);
  }

  /** Stops all workers. */
  public synchronized void shutdown() {
    for (Worker w : live) {
      w.client.close();
    }
    live.clear();
  }

  private void retireSpent() {
    for (Iterator<Worker> it = live.iterator(); it.hasNext(); ) {
      Worker w = it.next();
      if (!w.client.alive() || w.builds >= recycleAfterBuilds) {
        retire(w);
        it.remove();
      }
    }
  }

  /** The index of the pool with the fewest live workers (the first on ties). */
  private int emptiestPool() {
    int best = 0;
    int bestCount = Integer.MAX_VALUE;
    for (int i = 0; i < devices.size(); i++) {
      int n = 0;
      for (Worker w : live) {
        n += w.pool == i ? 1 : 0;
      }
      if (n < bestCount) {
        best = i;
        bestCount = n;
      }
    }
    return best;
  }

  private Worker launch(int pool) throws BackendCrashException {
    int device = devices.get(pool);
    String label = name + "-gpu" + device + "-p" + pool + "-w" + (++started);
    Worker w;
    try {
      w = new Worker(launcher.launch(label, device), pool, device);
    } catch (IOException e) {
      throw new BackendCrashException(
          "cannot start TensorRT worker process " + label + ": " + e.getMessage(), e);
    }
    LOG.debug("started worker {} (pid {})", label, w.client.pid());
    live.add(w);
    return w;
  }

  private void retire(Worker w) {
    w.retired = true;
    if (w.openSessions == 0 || !w.client.alive()) {
      w.client.close();
    }
  }

  /** A worker process and its bookkeeping (guarded by the pool). */
  public static final class Worker {
    private final WorkerClient client;
    private final int pool;
    private final int device;
    private int builds;
    private int openSessions;
    private boolean retired;
    private int nextSessionId;

    Worker(WorkerClient client, int pool, int device) {
      this.client = client;
      this.pool = pool;
      this.device = device;
    }

    public WorkerClient client() {
      return client;
    }

    /** The index of its pool in the device list. */
    public int pool() {
      return pool;
    }

    /** The CUDA device it builds on. */
    public int device() {
      return device;
    }

    /** A session id unique within this worker. */
    public synchronized int newSessionId() {
      return ++nextSessionId;
    }
  }
}
