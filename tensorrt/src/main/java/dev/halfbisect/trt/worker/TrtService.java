package dev.halfbisect.trt.worker;

import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.trt.engine.TimingCacheFile;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * TensorRT inside the worker: the {@link TrtHandles} and the {@link SharedTimingCache} for the life
 * of the process, and the built sessions by id.
 */
final class TrtService {
  private final TrtHandles trt;
  private final GpuDevice device;
  private final SharedTimingCache timingCache;
  private final Map<Integer, EngineSession> sessions = new HashMap<>();

  private TrtService(TrtHandles trt, GpuDevice device, SharedTimingCache timingCache) {
    this.trt = trt;
    this.device = device;
    this.timingCache = timingCache;
  }

  /** Loads CUDA and TensorRT, selects the GPU and loads the persisted timing cache. */
  static TrtService start() {
    GpuDevice gpu = GpuDevice.select();
    TrtHandles trt = TrtHandles.create(gpu);
    TimingCacheFile file =
        TimingCacheFile.of(cacheDir(), gpu.name(), gpu.ccMajor(), gpu.ccMinor(), gpu.trtVersion());
    SharedTimingCache cache = SharedTimingCache.load(trt.builder(), file);
    WorkerLog.info(
        "TensorRT "
            + gpu.trtVersion()
            + " on "
            + gpu.name()
            + " (sm"
            + gpu.ccMajor()
            + gpu.ccMinor()
            + ")");
    return new TrtService(trt, gpu, cache);
  }

  /** {@code halfbisect.trt.cacheDir}, default {@code ~/.cache/halfbisect/trt}. */
  private static Path cacheDir() {
    return Path.of(
        System.getProperty(
            "halfbisect.trt.cacheDir",
            Path.of(System.getProperty("user.home", "."), ".cache", "halfbisect", "trt")
                .toString()));
  }

  String describe() {
    return device.describe() + ", timing cache " + timingCache.path();
  }

  Response build(Request.Build req) {
    sessions.remove(req.sessionId());
    trt.logger().clear();
    EngineBuild.Outcome outcome = EngineBuild.build(trt, timingCache.cache(), req);
    if (outcome.failure() != null) {
      return outcome.failure();
    }
    timingCache.save();
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

  Response time(Request.Time req) {
    EngineSession s = sessions.get(req.sessionId());
    if (s == null) {
      throw new IllegalArgumentException("no session " + req.sessionId() + " in this worker");
    }
    return s.time(req.inputs(), req.warmup(), req.runs());
  }

  void close(int sessionId) {
    EngineSession s = sessions.remove(sessionId);
    if (s != null) {
      s.release();
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
