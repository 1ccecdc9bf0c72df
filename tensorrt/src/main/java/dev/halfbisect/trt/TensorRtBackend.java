package dev.halfbisect.trt;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BackendUnavailableException;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.trt.client.TrtSettings;
import dev.halfbisect.trt.client.WorkerPool;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.time.Duration;
import java.util.List;

/**
 * TensorRT backend ({@code trt}). Every TensorRT call happens in a worker JVM (see {@link
 * dev.halfbisect.trt.worker.WorkerMain}); this class and the sessions it opens only talk to
 * workers, so this JVM never loads TensorRT or CUDA and its GPU memory stays flat however many
 * probes a search builds. Modes: {@code fp32} (TF32 off), {@code tf32}, {@code fp16} (weak typing,
 * plan nodes pinned with layer precision constraints), {@code fp16-strong} (the model rewritten to
 * FP16 by onnx-surgery, built strongly typed), {@code bf16-strong} (the same with BFLOAT16); all
 * but {@code tf32} with TF32 off, so that FP32 layers compute in FP32 (Polygraphy's default). On
 * TensorRT 11 and later {@code fp16} runs as {@code fp16-strong} ({@link CandidateModes}).
 */
public final class TensorRtBackend implements Backend {
  public static final String NAME = "trt";
  static final ImmutableList<String> MODES =
      ImmutableList.of("fp32", "tf32", "fp16", "fp16-strong", "bf16-strong");
  static final String INSTALL_HINT =
      "TensorRT 10.6 (libnvinfer.so.10, libnvonnxparser.so.10), the CUDA 12 runtime "
          + "(libcudart.so.12) and an NVIDIA GPU with its driver are needed: install TensorRT from "
          + "https://developer.nvidia.com/tensorrt and put its lib folder on LD_LIBRARY_PATH, or add the "
          + "org.bytedeco:tensorrt:10.6-1.5.11:linux-x86_64-redist and org.bytedeco:cuda:12.6-9.5-1.5.11:linux-x86_64-redist "
          + "jars to the class path";

  private static volatile Availability cachedAvailability;

  /** Public no-argument constructor for ServiceLoader; loads nothing native. */
  public TensorRtBackend() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> modes() {
    return MODES;
  }

  @Override
  public String referenceMode() {
    return "fp32";
  }

  @Override
  public String candidateMode() {
    return "fp16";
  }

  /**
   * Checks the bytedeco classes on the class path (without initializing them), then asks a worker
   * to load TensorRT and CUDA and find a GPU. The answer is remembered for this JVM.
   */
  @Override
  public Availability availability() {
    Availability a = cachedAvailability;
    if (a == null) {
      a = probeSystem();
      cachedAvailability = a;
    }
    return a;
  }

  /** {@link #probe(TrtSettings)} with the system's settings; a bad setting is the reason. */
  static Availability probeSystem() {
    try {
      return probe(TrtSettings.fromSystem());
    } catch (IllegalArgumentException e) { // a bad halfbisect.trt.* value: said, never thrown
      return Availability.no("TensorRT backend: " + e.getMessage());
    }
  }

  static Availability probe(TrtSettings settings) {
    for (String cls :
        List.of(
            "org.bytedeco.javacpp.Loader",
            "org.bytedeco.cuda.global.cudart",
            "org.bytedeco.tensorrt.global.nvinfer")) {
      try {
        Class.forName(
            cls, false, TensorRtBackend.class.getClassLoader()); // no static init: no natives
      } catch (ClassNotFoundException | LinkageError e) {
        return Availability.no(
            "TensorRT backend: the bytedeco class "
                + cls
                + " is not on the class path; add "
                + "org.bytedeco:tensorrt:10.6-1.5.11, org.bytedeco:cuda:12.6-9.5-1.5.11 and org.bytedeco:javacpp:1.5.11 "
                + "(with their linux-x86_64 classifier jars). "
                + INSTALL_HINT);
      }
    }
    // issue 17: no worker JVM (and no libcuda warning) where no NVIDIA driver can be present
    String noDriver = DriverCheck.problem();
    if (noDriver != null) {
      return Availability.no("TensorRT backend: " + noDriver + ". " + INSTALL_HINT);
    }
    WorkerPool pool = WorkerPool.shared(settings);
    Availability a = probe(pool, Duration.ofSeconds(120));
    if (a.available() && !TrtSettings.workersGiven(java.util.Map.of())) {
      gpuMemoryMiB(a.reason()).ifPresent(pool::fitToGpuMemory);
    }
    return a;
  }

  private static final java.util.regex.Pattern MIB =
      java.util.regex.Pattern.compile("(\\d+) MiB\\)");

  /** The GPU memory a worker's probe answer names ({@code ..., 143771 MiB)}), if it does. */
  static java.util.OptionalLong gpuMemoryMiB(String probeAnswer) {
    java.util.regex.Matcher m = MIB.matcher(probeAnswer);
    return m.find()
        ? java.util.OptionalLong.of(Long.parseLong(m.group(1)))
        : java.util.OptionalLong.empty();
  }

  /** Probes through {@code pool}'s current worker. */
  static Availability probe(WorkerPool pool, Duration limit) {
    try {
      Response r = pool.acquire().client().call(new Request.Probe(), limit);
      if (r instanceof Response.Ok ok) {
        return new Availability(true, ok.info());
      }
      if (r instanceof Response.Failure f) {
        return Availability.no(f.message());
      }
      return Availability.no(
          "TensorRT worker answered a probe with " + r.getClass().getSimpleName());
    } catch (BackendCrashException e) {
      return Availability.no(
          "TensorRT worker crashed while loading TensorRT/CUDA: " + e.getMessage());
    }
  }

  /** The worker's build keys set as system properties ({@link TrtSettings#buildProperties}). */
  @Override
  public java.util.Map<String, String> buildSettings() {
    return TrtSettings.buildProperties(java.util.Map.of());
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    if (!MODES.contains(options.mode())) {
      throw new IllegalArgumentException(
          "backend 'trt' has no mode '" + options.mode() + "'; modes: " + String.join(", ", MODES));
    }
    Availability a = availability();
    if (!a.available()) {
      throw new BackendUnavailableException(a.reason());
    }
    TrtSettings settings = TrtSettings.from(options.properties());
    // issue 19: TensorRT 11 has no weak typing; the worker's version decides what fp16 means
    CandidateModes.Mapped mapped = CandidateModes.map(options.mode(), TrtVersion.find(a.reason()));
    BuildOptions effective =
        mapped.mode().equals(options.mode())
            ? options
            : new BuildOptions(
                mapped.mode(), options.plan(), options.observed(), options.properties());
    return TrtSession.open(WorkerPool.shared(settings), settings, model, effective, mapped.note());
  }
}
