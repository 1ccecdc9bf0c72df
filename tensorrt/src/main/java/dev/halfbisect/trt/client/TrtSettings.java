package dev.halfbisect.trt.client;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Settings of the TensorRT backend, read from system properties and overridable per build through
 * {@link dev.halfbisect.core.backend.BuildOptions#properties()} (same keys).
 *
 * <ul>
 *   <li>{@code halfbisect.trt.cacheDir}: folder of the persisted timing caches (default {@code
 *       halfbisect.cacheDir/trt} when {@code halfbisect.cacheDir} is set, else {@code
 *       ~/.cache/halfbisect/trt})
 *   <li>{@code halfbisect.trt.buildTimeoutSeconds} (default 600), {@code
 *       halfbisect.trt.runTimeoutSeconds} (default 120)
 *   <li>{@code halfbisect.trt.recycleAfterBuilds}: builds before a worker is replaced (default 20)
 *   <li>{@code halfbisect.trt.device}: CUDA device index the worker uses (default 0)
 *   <li>{@code halfbisect.trt.devices}: comma-separated CUDA device indexes, one worker pool per
 *       entry (overrides {@code device}; {@code 0,1} spreads builds over two GPUs, {@code 0,0} runs
 *       two pools on GPU 0)
 *   <li>{@code halfbisect.trt.workers}: worker processes per pool (default {@link
 *       #defaultWorkers(int)}: a quarter of the cores, 1 to 4; the pool lowers it to one worker per
 *       {@value #GIB_PER_WORKER} GiB of GPU memory when the worker reports the GPU's memory)
 *   <li>{@code halfbisect.trt.workerJvmOptions}: extra JVM options of the worker, space separated
 *   <li>{@code halfbisect.trt.workspaceMiB}: builder workspace limit (default: TensorRT's)
 *   <li>{@code halfbisect.trt.builderOptimizationLevel}: 0 to 5, TensorRT's builder optimization
 *       level (default: TensorRT's, 3); lower builds faster with fewer tactics, as Polygraphy's
 *       {@code --builder-optimization-level}
 *   <li>{@code halfbisect.trt.observedAs}: {@code fp32} (default) or {@code fp16}, the type weak
 *       FP16 builds give the tensors they mark to observe ({@link
 *       dev.halfbisect.trt.engine.ObservedTypes})
 * </ul>
 *
 * <p>The last two are read by the worker from each build request; {@link #buildProperties} puts the
 * client's system properties into the request, so {@code -D} on the client's command line reaches
 * the worker.
 *
 * <p>Timeouts apply per build (build properties win). Cache folder, device, recycle count and
 * worker JVM options shape the worker process, so they take effect from the settings of the first
 * session that starts the device's worker pool (in practice: system properties).
 */
public record TrtSettings(
    Path cacheDir,
    Duration buildTimeout,
    Duration runTimeout,
    int recycleAfterBuilds,
    int device,
    String workerJvmOptions,
    ImmutableList<Integer> devices,
    int workers) {
  public static final String CACHE_DIR = "halfbisect.trt.cacheDir";
  public static final String BUILD_TIMEOUT = "halfbisect.trt.buildTimeoutSeconds";
  public static final String RUN_TIMEOUT = "halfbisect.trt.runTimeoutSeconds";
  public static final String RECYCLE_AFTER = "halfbisect.trt.recycleAfterBuilds";
  public static final String DEVICE = "halfbisect.trt.device";
  public static final String WORKER_JVM_OPTIONS = "halfbisect.trt.workerJvmOptions";
  // issue 18: worker pools
  public static final String DEVICES = "halfbisect.trt.devices";
  public static final String WORKERS = "halfbisect.trt.workers";
  public static final String WORKSPACE_MIB = "halfbisect.trt.workspaceMiB";

  /** A folder the worker writes each build's engine layers into (inspector JSON, network TSV). */
  public static final String DUMP_ENGINE_INFO = "halfbisect.trt.dumpEngineInfo";

  public static final String BUILDER_OPTIMIZATION_LEVEL = "halfbisect.trt.builderOptimizationLevel";

  /** The keys the worker reads from a build request rather than from its own JVM. */
  static final ImmutableList<String> WORKER_BUILD_KEYS =
      ImmutableList.of(
          WORKSPACE_MIB,
          dev.halfbisect.trt.engine.ObservedTypes.PROPERTY,
          DUMP_ENGINE_INFO,
          BUILDER_OPTIMIZATION_LEVEL);

  /** GPU memory one worker may count on (its CUDA context, builder workspace and engines). */
  public static final int GIB_PER_WORKER = 16;

  public TrtSettings {
    Preconditions.checkArgument(recycleAfterBuilds >= 1, "%s must be at least 1", RECYCLE_AFTER);
    Preconditions.checkArgument(device >= 0, "%s must be a device index >= 0", DEVICE);
    Preconditions.checkArgument(
        !devices.isEmpty() && devices.stream().allMatch(d -> d >= 0),
        "%s must list device indexes >= 0, got %s",
        DEVICES,
        devices);
    Preconditions.checkArgument(workers >= 1, "%s must be at least 1, got %s", WORKERS, workers);
    Preconditions.checkArgument(
        buildTimeout.toSeconds() >= 1,
        "%s must be at least 1 second, got %s",
        BUILD_TIMEOUT,
        buildTimeout.toSeconds());
    Preconditions.checkArgument(
        runTimeout.toSeconds() >= 1,
        "%s must be at least 1 second, got %s",
        RUN_TIMEOUT,
        runTimeout.toSeconds());
  }

  /** One pool of one worker on {@code device}. */
  public TrtSettings(
      Path cacheDir,
      Duration buildTimeout,
      Duration runTimeout,
      int recycleAfterBuilds,
      int device,
      String workerJvmOptions) {
    this(
        cacheDir,
        buildTimeout,
        runTimeout,
        recycleAfterBuilds,
        device,
        workerJvmOptions,
        ImmutableList.of(device),
        1);
  }

  /**
   * Workers per pool when {@value #WORKERS} is not set: a quarter of {@code cores} (a TensorRT
   * build keeps a few cores busy), at least 1 and at most 4.
   */
  public static int defaultWorkers(int cores) {
    return Math.max(1, Math.min(4, cores / 4));
  }

  /** Whether {@value #WORKERS} was set (else the pool may lower the default by GPU memory). */
  public static boolean workersGiven(Map<String, String> overrides) {
    return overrides.containsKey(WORKERS) || System.getProperty(WORKERS) != null;
  }

  /** Settings from system properties. */
  public static TrtSettings fromSystem() {
    return from(Map.of());
  }

  /**
   * Settings from {@code overrides} (build properties), falling back to system properties, then
   * defaults.
   */
  public static TrtSettings from(Map<String, String> overrides) {
    Path cache = Path.of(get(overrides, CACHE_DIR, defaultCacheDir().toString()));
    return new TrtSettings(
        cache,
        Duration.ofSeconds(getLong(overrides, BUILD_TIMEOUT, 600)),
        Duration.ofSeconds(getLong(overrides, RUN_TIMEOUT, 120)),
        (int) getLong(overrides, RECYCLE_AFTER, 20),
        (int) getLong(overrides, DEVICE, 0),
        get(overrides, WORKER_JVM_OPTIONS, ""),
        devices(overrides),
        (int)
            getLong(
                overrides, WORKERS, defaultWorkers(Runtime.getRuntime().availableProcessors())));
  }

  /**
   * The properties a build request carries: {@code overrides}, plus the worker's build keys ({@code
   * workspaceMiB}, {@code observedAs}, {@code dumpEngineInfo}, {@code builderOptimizationLevel})
   * from system properties where {@code overrides} has none. Their values are checked here, so that
   * a bad one fails before a worker is asked to build.
   */
  public static com.google.common.collect.ImmutableMap<String, String> buildProperties(
      Map<String, String> overrides) {
    Map<String, String> out = new java.util.LinkedHashMap<>(overrides);
    for (String key : WORKER_BUILD_KEYS) {
      String v = get(overrides, key, null);
      if (v != null) {
        out.put(key, v);
      }
    }
    if (out.containsKey(WORKSPACE_MIB)) {
      long mib = getLong(out, WORKSPACE_MIB, 0);
      Preconditions.checkArgument(
          mib > 0, "property %s must be a positive number of MiB, got %s", WORKSPACE_MIB, mib);
    }
    if (out.containsKey(BUILDER_OPTIMIZATION_LEVEL)) {
      long level = getLong(out, BUILDER_OPTIMIZATION_LEVEL, 3);
      Preconditions.checkArgument(
          level >= 0 && level <= 5,
          "property %s must be a TensorRT builder optimization level from 0 to 5, got %s",
          BUILDER_OPTIMIZATION_LEVEL,
          level);
    }
    dev.halfbisect.trt.engine.ObservedTypes.Mode.parse(
        out.get(dev.halfbisect.trt.engine.ObservedTypes.PROPERTY));
    return com.google.common.collect.ImmutableMap.copyOf(out);
  }

  /**
   * {@code halfbisect.cacheDir/trt} when that property is set (it moves all of halfbisect's
   * caches), else {@code ~/.cache/halfbisect/trt}.
   */
  static Path defaultCacheDir() {
    String all = System.getProperty("halfbisect.cacheDir");
    return all != null && !all.isBlank()
        ? Path.of(all, "trt")
        : Path.of(System.getProperty("user.home", "."), ".cache", "halfbisect", "trt");
  }

  /** {@value #DEVICES} parsed, else the one {@value #DEVICE}. */
  private static ImmutableList<Integer> devices(Map<String, String> overrides) {
    String list = get(overrides, DEVICES, "").trim();
    if (list.isEmpty()) {
      return ImmutableList.of((int) getLong(overrides, DEVICE, 0));
    }
    List<Integer> out = new ArrayList<>();
    for (String part : list.split(",")) {
      try {
        out.add(Integer.parseInt(part.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "property " + DEVICES + " must list CUDA device indexes like 0,1; got '" + list + "'",
            e);
      }
    }
    return ImmutableList.copyOf(out);
  }

  private static String get(Map<String, String> overrides, String key, String dflt) {
    String v = overrides.get(key);
    return v != null ? v : System.getProperty(key, dflt);
  }

  private static long getLong(Map<String, String> overrides, String key, long dflt) {
    String v = get(overrides, key, Long.toString(dflt)).trim();
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "property " + key + " must be a whole number, got '" + v + "'", e);
    }
  }
}
