package dev.halfbisect.trt.client;

import dev.halfbisect.core.backend.BackendCrashException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker processes of one GPU. New builds go to the current worker; after {@code
 * recycleAfterBuilds} builds, or when it died, the next build gets a fresh one. A retired worker
 * exits once its last session is closed, which is how TensorRT memory that the presets cannot free
 * (bytedeco issue 1699) is given back.
 */
public final class WorkerPool {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
  private static final Map<Integer, WorkerPool> SHARED = new HashMap<>();
  static final String WORKER_MAIN = "dev.halfbisect.trt.worker.WorkerMain";

  /** Starts one worker process; replaced in tests by a fake worker main. */
  public interface Launcher {
    WorkerClient launch(String label) throws IOException;
  }

  private final String name;
  private final Launcher launcher;
  private final int recycleAfterBuilds;
  private Worker current;
  private int started;

  public WorkerPool(String name, Launcher launcher, int recycleAfterBuilds) {
    this.name = name;
    this.launcher = launcher;
    this.recycleAfterBuilds = recycleAfterBuilds;
  }

  /** The process-wide pool of the configured device, started with the real worker main. */
  public static synchronized WorkerPool shared(TrtSettings settings) {
    return SHARED.computeIfAbsent(
        settings.device(),
        d -> {
          WorkerPool pool =
              new WorkerPool(
                  "trt-gpu" + d,
                  label ->
                      WorkerClient.start(label, javaCommand(settings, WORKER_MAIN), environment(d)),
                  settings.recycleAfterBuilds());
          Runtime.getRuntime().addShutdownHook(new Thread(pool::shutdown, "trt-pool-shutdown"));
          return pool;
        });
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

  private static Map<String, String> environment(int device) {
    // One GPU per worker: the worker always uses device 0 of what it sees.
    return Map.of("CUDA_VISIBLE_DEVICES", Integer.toString(device));
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
   * The worker for a new build, counting the build: a fresh one when there is none yet, it died, or
   * it reached its build count.
   *
   * @throws BackendCrashException when no worker process can be started
   */
  public synchronized Worker acquireForBuild() throws BackendCrashException {
    Worker w = acquire();
    w.builds++;
    w.openSessions++;
    return w;
  }

  /** The current worker for a probe (no build counted). */
  public synchronized Worker acquire() throws BackendCrashException {
    if (current != null && (!current.client.alive() || current.builds >= recycleAfterBuilds)) {
      retire(current);
      current = null;
    }
    if (current == null) {
      String label = name + "-w" + (++started);
      try {
        current = new Worker(launcher.launch(label));
      } catch (IOException e) {
        throw new BackendCrashException(
            "cannot start TensorRT worker process " + label + ": " + e.getMessage(), e);
      }
      LOG.debug("started worker {} (pid {})", label, current.client.pid());
    }
    return current;
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

  /** Stops all workers. */
  public synchronized void shutdown() {
    if (current != null) {
      current.client.close();
      current = null;
    }
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
    private int builds;
    private int openSessions;
    private boolean retired;
    private int nextSessionId;

    Worker(WorkerClient client) {
      this.client = client;
    }

    public WorkerClient client() {
      return client;
    }

    /** A session id unique within this worker. */
    public synchronized int newSessionId() {
      return ++nextSessionId;
    }
  }
}
