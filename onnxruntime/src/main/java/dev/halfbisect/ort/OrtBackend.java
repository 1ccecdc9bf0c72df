package dev.halfbisect.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BackendUnavailableException;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.BuildStats;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The {@code ort} backend: ONNX Runtime on the CPU.
 *
 * <ul>
 *   <li>{@code fp32}, the reference: the model as it is, graph optimizations off by default ({@code
 *       NO_OPT}) so every observed tensor is the ONNX tensor of that name, not a fused one.
 *   <li>{@code fp16-emulated}, the candidate: the model rewritten by onnx-surgery's {@code
 *       Fp16Emulation} under the plan (Cast pairs around every FP16 node, weights pre-rounded), run
 *       at {@link #EMULATED_DEFAULT_OPT_LEVEL}. ONNX Runtime 1.29 keeps float->float16->float Cast
 *       pairs at every level (none to all; see CastPairFoldingTest and Fp16EmulationBackendTest),
 *       so {@code ort.optLevel} may raise it without losing the rounding; on MiniLM higher levels
 *       bring no speed-up because the Casts stop the fusions.
 *   <li>{@code fp16-acc16-emulated}: {@code fp16-emulated} plus FP16 accumulation in MatMuls and
 *       Gemms (onnx-surgery's {@code Fp16Accumulation}: the running sum rounded to FP16 every 16
 *       products, as tensor-core kernels with FP16 accumulators do): every FP16 MatMul, and Gemms
 *       whose reduction length is static. Weak-typed TensorRT's errors on MiniLM fit it, not {@code
 *       fp16-emulated} (docs/PERFORMANCE.md).
 *   <li>{@code bf16-emulated}: the same with BF16 storage (Cast pairs through BFLOAT16, constants
 *       clamped to BF16's range and rounded to nearest even); ONNX Runtime's float->bfloat16 Cast
 *       rounds to nearest even like {@code core.Bf16} (checked in Bf16EmulationBackendTest).
 *   <li>{@code fp16-strong-emulated}, {@code bf16-strong-emulated}: the Cast-placed model that
 *       TensorRT's strongly typed modes build, run with its low-precision tensors rounded where
 *       produced: strong typing's deliverable tested on a CPU; {@code fp16-strong-acc16-emulated}
 *       adds FP16 accumulation as {@code fp16-acc16-emulated} does.
 * </ul>
 *
 * <p>Observed tensors are marked as graph outputs before the session is built. Build options
 * properties: {@code ort.threads} (intra-op threads, default: available processors over {@link
 * BuildOptions#CONCURRENT_BUILDS}) and {@code ort.optLevel} ({@code
 * none|basic|extended|layout|all}).
 *
 * <p>Sessions are cached per (model content, external-data folder, mode, plan, observed set,
 * settings) in a bounded LRU cache inside this instance. Every {@link BackendSession} returned is
 * an independent view holding a reference on the shared native session: closing it never breaks
 * another holder; an evicted session closes once its last view is closed. {@link #clearCache()}
 * drops the cache's own references.
 *
 * <p>{@link #open} is thread-safe; two threads opening the same key at once may both build, and
 * only one of the sessions is cached. Sessions may run from several threads at once (ONNX Runtime's
 * {@code run} is thread-safe).
 *
 * <p>No native code loads at class load or construction; {@link OrtEnvironment} is first touched in
 * {@link #availability()} or {@link #open}.
 */
public final class OrtBackend implements Backend {
  /** Backend name on the command line. */
  public static final String NAME = "ort";

  public static final String MODE_FP32 = "fp32";
  public static final String MODE_FP16_EMULATED = "fp16-emulated";

  /** FP16 storage emulation plus FP16 accumulation in MatMuls ({@code Fp16Accumulation}). */
  public static final String MODE_FP16_ACC16_EMULATED = "fp16-acc16-emulated";

  /** BF16 storage emulation (issue 19): Cast pairs through BFLOAT16, constants rounded to BF16. */
  public static final String MODE_BF16_EMULATED = "bf16-emulated";

  /**
   * Strong typing emulated (issue 19): the model Cast-placed by onnx-surgery's Fp16Conversion (the
   * model {@code trt:fp16-strong} builds), then run with its FP16 tensors rounded where produced
   * ({@code CastPlacedEmulation}).
   */
  public static final String MODE_FP16_STRONG_EMULATED = "fp16-strong-emulated";

  /**
   * {@link #MODE_FP16_STRONG_EMULATED} plus FP16 accumulation in MatMuls and Gemms ({@code
   * Fp16Accumulation}): on MiniLM strongly typed TensorRT 10.6 erred as the weak-typed engine
   * (3.66e-3 with nothing pinned on an H200), so its FP16 MatMuls accumulate in FP16 too.
   */
  public static final String MODE_FP16_STRONG_ACC16_EMULATED = "fp16-strong-acc16-emulated";

  /**
   * As {@link #MODE_FP16_STRONG_EMULATED} with BFLOAT16: the model {@code trt:bf16-strong} builds.
   */
  public static final String MODE_BF16_STRONG_EMULATED = "bf16-strong-emulated";

  /** Whether {@code mode} adds FP16 accumulation in MatMuls and Gemms to its emulation. */
  static boolean accumulatesInFp16(String mode) {
    return mode.equals(MODE_FP16_ACC16_EMULATED) || mode.equals(MODE_FP16_STRONG_ACC16_EMULATED);
  }

  /** Sessions the default instance keeps built. */
  public static final int DEFAULT_CACHE_CAPACITY = 8;

  /** Default level for fp32: no graph rewrites, so observed tensors are the ONNX tensors. */
  public static final OptLevel FP32_DEFAULT_OPT_LEVEL = OptLevel.NO_OPT;

  /**
   * Default level for fp16-emulated: none, like the reference, so both runs compute the same ONNX
   * graph apart from the Cast pairs (measured: no level is faster on the emulated MiniLM).
   */
  public static final OptLevel EMULATED_DEFAULT_OPT_LEVEL = OptLevel.NO_OPT;

  private static final ImmutableList<String> MODES =
      ImmutableList.of(
          MODE_FP32,
          MODE_FP16_EMULATED,
          MODE_FP16_ACC16_EMULATED,
          MODE_BF16_EMULATED,
          MODE_FP16_STRONG_EMULATED,
          MODE_FP16_STRONG_ACC16_EMULATED,
          MODE_BF16_STRONG_EMULATED);

  private final SessionCache cache;
  private final ModelDigest digests = new ModelDigest();
  // The model last parsed for an emulation, by digest, folder and name: a search rewrites it once
  // per probe, and one parse lets Fp16Emulation reuse its rounded weights (RoundedInitializers)
  private final com.google.common.cache.Cache<String, dev.halfbisect.onnx.OnnxModel> parsed =
      com.google.common.cache.CacheBuilder.newBuilder().maximumSize(1).softValues().build();

  /** The instance {@link java.util.ServiceLoader} creates, with the default cache capacity. */
  public OrtBackend() {
    this(DEFAULT_CACHE_CAPACITY);
  }

  /** A backend caching at most {@code cacheCapacity} sessions (0 disables caching). */
  public OrtBackend(int cacheCapacity) {
    this.cache = new SessionCache(cacheCapacity);
  }

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
    return MODE_FP32;
  }

  @Override
  public String candidateMode() {
    return MODE_FP16_EMULATED;
  }

  @Override
  public Availability availability() {
    try {
      // the reason of an available backend says what runs (issue 17: --version lists it)
      return new Availability(true, "ONNX Runtime " + environment().getVersion() + " (CPU)");
    } catch (BackendUnavailableException e) {
      return Availability.no(e.getMessage());
    }
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    Preconditions.checkNotNull(model, "model");
    Preconditions.checkNotNull(options, "options");
    if (!MODES.contains(options.mode())) {
      throw new IllegalArgumentException(
          "backend 'ort' has no mode '" + options.mode() + "'; modes: " + String.join(", ", MODES));
    }
    boolean emulate = !options.mode().equals(MODE_FP32);
    OrtSettings settings =
        OrtSettings.from(options, emulate ? EMULATED_DEFAULT_OPT_LEVEL : FP32_DEFAULT_OPT_LEVEL);
    OrtEnvironment env = environment();
    byte[] bytes;
    try {
      bytes = model.bytes();
    } catch (IOException e) {
      throw new BackendException("cannot read model '" + model.name() + "': " + e.getMessage(), e);
    }
    String digest = digests.of(bytes);
    SessionKey key =
        new SessionKey(
            digest,
            model.baseDir().map(Object::toString).orElse(""),
            options.mode(),
            emulate ? options.plan() : PrecisionPlan.allFp32(),
            options.observed(),
            settings);
    SharedOrtSession cached = cache.acquire(key);
    if (cached != null) {
      return new OrtBackendSession(
          cached,
          new BuildStats(Duration.ZERO, cached.outputNames().size(), true, cached.warnings()));
    }
    long start = System.nanoTime();
    String parsedKey =
        digest + '|' + model.baseDir().map(Object::toString).orElse("") + '|' + model.name();
    PreparedModel prepared =
        ModelPreparation.prepare(
            model,
            bytes,
            options,
            emulate,
            () -> {
              dev.halfbisect.onnx.OnnxModel m = parsed.getIfPresent(parsedKey);
              if (m == null) {
                m = ModelPreparation.parse(model, bytes);
                parsed.put(parsedKey, m);
              }
              return m;
            });
    SharedOrtSession built = build(env, model, prepared, settings);
    Duration buildTime = Duration.ofNanos(System.nanoTime() - start);
    cache.offer(key, built);
    return new OrtBackendSession(
        built, new BuildStats(buildTime, built.outputNames().size(), false, built.warnings()));
  }

  /** Releases the sessions this backend keeps cached; sessions still open stay usable. */
  public void clearCache() {
    cache.clear();
  }

  /** Number of sessions currently cached. */
  public int cachedSessions() {
    return cache.size();
  }

  private static SharedOrtSession build(
      OrtEnvironment env, ModelRef model, PreparedModel prepared, OrtSettings settings)
      throws BackendException {
    long start = System.nanoTime();
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setOptimizationLevel(settings.optLevel());
      so.setIntraOpNumThreads(settings.intraOpThreads());
      so.setInterOpNumThreads(1);
      if (!settings.spinning()) {
        so.addConfigEntry("session.intra_op.allow_spinning", "0");
      }
      if (model.baseDir().isPresent()) {
        // Sessions are created from bytes; external data is resolved against the model's folder.
        so.addConfigEntry(
            "session.model_external_initializers_file_folder_path",
            model.baseDir().get().toString());
      }
      OrtSession session = env.createSession(prepared.bytes(), so);
      return SharedOrtSession.wrap(
          model.name(),
          env,
          session,
          Duration.ofNanos(System.nanoTime() - start),
          prepared.warnings());
    } catch (OrtException e) {
      if (ShutdownFlag.isShuttingDown()) {
        // ONNX Runtime's own shutdown hook closes its environment: builds in flight then fail
        // with "Attempt to use DefaultLogger but none has been registered"
        throw new BackendException(
            "ONNX Runtime stopped building model '"
                + model.name()
                + "': halfbisect was interrupted (Ctrl-C, a time limit), not an ONNX Runtime"
                + " failure",
            e);
      }
      throw new BackendException(
          "ONNX Runtime cannot build model '" + model.name() + "': " + e.getMessage(), e);
    }
  }

  /** The process-wide ONNX Runtime environment, loading the natives on first use. */
  private static OrtEnvironment environment() throws BackendUnavailableException {
    try {
      if (!OrtNatives.isLoaded()) {
        OrtNatives.logLevel(); // read when ORT first loads; a bad value says so, not "no natives"
      }
    } catch (IllegalArgumentException e) {
      throw new BackendUnavailableException("ONNX Runtime backend: " + e.getMessage(), e);
    }
    try {
      ShutdownFlag.install();
      return OrtNatives.load(
          () -> OrtEnvironment.getEnvironment(OrtNatives.logLevel(), "halfbisect"));
    } catch (LinkageError | RuntimeException e) {
      throw new BackendUnavailableException(
          "ONNX Runtime natives could not be loaded ("
              + e
              + "); the com.microsoft.onnxruntime:onnxruntime jar ships them for linux-x64, linux-aarch64,"
              + " osx-aarch64 and win-x64",
          e);
    }
  }
}
