package dev.halfbisect.trt.worker;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.trt.engine.TimingCacheFile;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.IRuntime;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;

/**
 * TensorRT inside the worker: one logger, builder, runtime and timing cache for the life of the
 * process (the presets cannot free TensorRT objects, bytedeco issue 1699; the process exit does),
 * and the built sessions by id.
 */
final class TrtService {
  private final TrtLogger logger;
  private final IBuilder builder;
  private final IRuntime runtime;
  private final ITimingCache timingCache;
  private final IBuilderConfig cacheOwner; // the config the shared timing cache was created from
  private final TimingCacheFile cacheFile;
  private final String gpuName;
  private final int ccMajor;
  private final int ccMinor;
  private final String trtVersion;
  private final Map<Integer, EngineSession> sessions = new HashMap<>();

  private TrtService(
      TrtLogger logger,
      IBuilder builder,
      IRuntime runtime,
      IBuilderConfig cacheOwner,
      ITimingCache timingCache,
      TimingCacheFile cacheFile,
      String gpuName,
      int ccMajor,
      int ccMinor,
      String trtVersion) {
    this.logger = logger;
    this.builder = builder;
    this.runtime = runtime;
    this.cacheOwner = cacheOwner;
    this.timingCache = timingCache;
    this.cacheFile = cacheFile;
    this.gpuName = gpuName;
    this.ccMajor = ccMajor;
    this.ccMinor = ccMinor;
    this.trtVersion = trtVersion;
  }

  /** Loads CUDA and TensorRT, selects the GPU and loads the persisted timing cache. */
  static TrtService start() {
    int[] count = new int[1];
    int rc = cudaGetDeviceCount(count);
    if (rc != 0 || count[0] == 0) {
      throw new GpuUnavailableException(
          "no CUDA GPU is usable (cudaGetDeviceCount: "
              + (rc != 0 ? cudaGetErrorString(rc).getString() : "0 devices")
              + "); "
              + NativeProblems.INSTALL);
    }
    check(cudaSetDevice(0), "cudaSetDevice(0)");
    cudaDeviceProp prop = new cudaDeviceProp();
    check(cudaGetDeviceProperties(prop, 0), "cudaGetDeviceProperties");
    String gpu = prop.name().getString();
    int v = nvinfer.getInferLibVersion();
    String trt =
        nvinfer.getInferLibMajorVersion()
            + "."
            + nvinfer.getInferLibMinorVersion()
            + "."
            + nvinfer.getInferLibPatchVersion();
    TrtLogger logger = new TrtLogger();
    IBuilder builder = nvinfer.createInferBuilder(logger);
    IRuntime runtime = nvinfer.createInferRuntime(logger);
    if (builder == null || builder.isNull() || runtime == null || runtime.isNull()) {
      throw new GpuUnavailableException(
          "TensorRT "
              + trt
              + " ("
              + v
              + ") could not create a builder on "
              + gpu
              + ": "
              + logger.errors());
    }
    Path dir =
        Path.of(
            System.getProperty(
                "halfbisect.trt.cacheDir",
                Path.of(System.getProperty("user.home", "."), ".cache", "halfbisect", "trt")
                    .toString()));
    TimingCacheFile file = TimingCacheFile.of(dir, gpu, prop.major(), prop.minor(), trt);
    IBuilderConfig owner = builder.createBuilderConfig();
    byte[] bytes = readCache(file);
    ITimingCache cache;
    if (bytes.length > 0) {
      BytePointer p = new BytePointer(bytes);
      cache = owner.createTimingCache(p, bytes.length);
      WorkerLog.info("loaded timing cache " + file.path() + " (" + bytes.length + " bytes)");
    } else {
      cache = owner.createTimingCache(null, 0);
    }
    if (cache == null || cache.isNull()) {
      WorkerLog.warn("timing cache " + file.path() + " is unreadable; starting an empty one");
      cache = owner.createTimingCache(null, 0);
    }
    WorkerLog.info("TensorRT " + trt + " on " + gpu + " (sm" + prop.major() + prop.minor() + ")");
    return new TrtService(
        logger, builder, runtime, owner, cache, file, gpu, prop.major(), prop.minor(), trt);
  }

  String describe() {
    return "TensorRT "
        + trtVersion
        + " on "
        + gpuName
        + " (compute capability "
        + ccMajor
        + "."
        + ccMinor
        + "), timing cache "
        + cacheFile.path();
  }

  Response build(Request.Build req) {
    sessions.remove(req.sessionId());
    logger.clear();
    EngineBuild.Outcome outcome = EngineBuild.build(builder, runtime, logger, timingCache, req);
    if (outcome.failure() != null) {
      return outcome.failure();
    }
    saveTimingCache();
    sessions.put(req.sessionId(), outcome.session());
    EngineSession s = outcome.session();
    return new Response.Built(
        s.inputInfos(),
        s.outputNames(),
        outcome.buildMillis(),
        outcome.warnings(),
        outcome.planCheck());
  }

  Response run(Request.Run req) {
    EngineSession s = sessions.get(req.sessionId());
    if (s == null) {
      throw new IllegalArgumentException("no session " + req.sessionId() + " in this worker");
    }
    return s.run(req.inputs());
  }

  void close(int sessionId) {
    EngineSession s = sessions.remove(sessionId);
    if (s != null) {
      s.release();
    }
  }

  /** Merges the on-disk cache (other workers may have added to it) into ours, then writes ours. */
  private void saveTimingCache() {
    try {
      byte[] disk = readCache(cacheFile);
      if (disk.length > 0) {
        ITimingCache other = cacheOwner.createTimingCache(new BytePointer(disk), disk.length);
        if (other != null && !other.isNull()) {
          timingCache.combine(other, true);
        }
      }
      IHostMemory mem = timingCache.serialize();
      byte[] bytes = new byte[(int) mem.size()];
      new BytePointer(mem.data()).capacity(mem.size()).get(bytes);
      cacheFile.write(bytes);
    } catch (IOException | RuntimeException e) {
      WorkerLog.warn("could not save timing cache " + cacheFile.path() + ": " + e);
    }
  }

  private static byte[] readCache(TimingCacheFile file) {
    try {
      return file.read().orElse(new byte[0]);
    } catch (IOException e) {
      WorkerLog.warn("could not read timing cache " + file.path() + ": " + e);
      return new byte[0];
    }
  }

  static void check(int rc, String what) {
    if (rc != 0) {
      throw new IllegalStateException(
          what + " failed: " + cudaGetErrorString(rc).getString() + " (" + rc + ")");
    }
  }

  static ImmutableList<String> tail(java.util.List<String> lines, int n) {
    return ImmutableList.copyOf(lines.subList(Math.max(0, lines.size() - n), lines.size()));
  }
}
