package dev.halfbisect.trt;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BackendUnavailableException;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.BuildStats;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.core.backend.Timing;
import dev.halfbisect.core.backend.TimingRequest;
import dev.halfbisect.core.backend.UnobservableTensorsException;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.trt.client.TrtSettings;
import dev.halfbisect.trt.client.WorkerPool;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A session proxy: the engine lives in a worker process. Models with only static input shapes are
 * built when the session opens; models with dynamic dims are built on the first {@link #run} with
 * an optimization profile fixed to that sample's shapes, and rebuilt when a later sample's shapes
 * differ (each rebuild counts as a build and shows in {@link #buildStats()}).
 */
final class TrtSession implements BackendSession {
  /** Property fixing input shapes up front: {@code input_ids:1x128,attention_mask:1x128}. */
  static final String SHAPES = "halfbisect.trt.shapes";

  private final WorkerPool pool;
  private final TrtSettings settings;
  private final String modelName;
  private final byte[] model;
  private final String workerMode;
  private final BuildOptions options;
  private final ImmutableMap<String, String> buildProperties;
  private final ModelSignature signature;
  private final ImmutableList<String> rewriteWarnings;
  private WorkerPool.Worker worker;
  private int sessionId;
  private Map<String, long[]> builtShapes;
  private Response.Built built;
  private int builds;
  private boolean closed;

  private TrtSession(
      WorkerPool pool,
      TrtSettings settings,
      String modelName,
      byte[] model,
      String workerMode,
      BuildOptions options,
      ModelSignature signature,
      ImmutableList<String> rewriteWarnings) {
    this.rewriteWarnings = rewriteWarnings;
    this.pool = pool;
    this.settings = settings;
    this.modelName = modelName;
    this.model = model;
    this.workerMode = workerMode;
    this.options = options;
    this.buildProperties = TrtSettings.buildProperties(options.properties());
    this.signature = signature;
  }

  static TrtSession open(WorkerPool pool, TrtSettings settings, ModelRef ref, BuildOptions options)
      throws BackendException {
    return open(pool, settings, ref, options, null);
  }

  /** As above; {@code note} (may be null) is reported first among the build warnings. */
  static TrtSession open(
      WorkerPool pool, TrtSettings settings, ModelRef ref, BuildOptions options, String note)
      throws BackendException {
    byte[] bytes;
    try {
      bytes = ref.bytes();
    } catch (IOException e) {
      throw new BackendException("cannot read model " + ref.name() + ": " + e.getMessage(), e);
    }
    String mode = options.mode();
    PrecisionPlan plan = options.plan();
    ImmutableList.Builder<String> notes = ImmutableList.builder();
    if (note != null) {
      notes.add(note);
    }
    if (mode.endsWith("-strong")) {
      StrongTypingRewrite.Rewritten rw =
          StrongTypingRewrite.apply(
              ref.name(), bytes, ref.baseDir().orElse(null), plan, LowPrecision.ofMode(mode));
      bytes = rw.bytes();
      notes.addAll(rw.warnings());
      mode = "strong";
    } else if (mode.equals("fp16") && plan.defaultPrecision() == PrecisionPlan.Precision.FP32) {
      mode = "fp32"; // a plan that keeps everything in FP32 is the reference build
    }
    TrtSession s =
        new TrtSession(
            pool,
            settings,
            ref.name(),
            bytes,
            mode,
            withModelDir(options, ref),
            ModelSignature.of(ref.name(), bytes),
            notes.build());
    Map<String, long[]> fixed = parseShapes(options.properties().get(SHAPES));
    if (!s.signature.hasDynamicInputs() || !fixed.isEmpty()) {
      Map<String, long[]> shapes = new LinkedHashMap<>();
      for (TensorInfo t : s.signature.inputs()) {
        shapes.put(t.name(), fixed.getOrDefault(t.name(), t.shape()));
      }
      s.build(shapes);
    }
    return s;
  }

  private static BuildOptions withModelDir(BuildOptions options, ModelRef ref) {
    return ref.baseDir()
        .map(d -> options.withProperty("halfbisect.trt.modelDir", d.toString()))
        .orElse(options);
  }

  @Override
  public List<TensorInfo> inputs() {
    return built != null ? built.inputs() : signature.inputs();
  }

  @Override
  public List<String> outputNames() {
    if (built != null) {
      return built.outputNames();
    }
    return ImmutableList.<String>builder()
        .addAll(signature.outputs())
        .addAll(
            options.observed().stream().filter(n -> !signature.outputs().contains(n)).iterator())
        .build();
  }

  @Override
  public RunResult run(Map<String, Tensor> inputs) throws BackendException {
    Preconditions.checkState(!closed, "session of %s is closed", modelName);
    builtFor(inputs);
    Response r;
    try {
      r =
          worker
              .client()
              .call(new Request.Run(sessionId, ImmutableMap.copyOf(inputs)), settings.runTimeout());
    } catch (BackendCrashException e) {
      lostWorker();
      throw e;
    }
    if (r instanceof Response.Result res) {
      return new RunResult(res.outputs(), Duration.ofNanos(res.runNanos()));
    }
    throw failure(r, "running " + modelName);
  }

  /**
   * Issue 20: GPU time per inference between CUDA events in the worker (inputs uploaded once, no
   * host copies timed), or wall time around enqueue + synchronize where events are unavailable.
   */
  @Override
  public Timing time(Map<String, Tensor> inputs, TimingRequest request) throws BackendException {
    Preconditions.checkState(!closed, "session of %s is closed", modelName);
    builtFor(inputs);
    Duration limit = settings.runTimeout().multipliedBy(1L + request.warmup() + request.runs());
    Response r;
    try {
      r =
          worker
              .client()
              .call(
                  new Request.Time(
                      sessionId, ImmutableMap.copyOf(inputs), request.warmup(), request.runs()),
                  limit);
    } catch (BackendCrashException e) {
      lostWorker();
      throw e;
    }
    if (r instanceof Response.Timed t) {
      return Timing.ofNanos(
          t.gpuEvents() ? Timing.Clock.GPU_EVENTS : Timing.Clock.GPU_WALL,
          request.warmup(),
          t.nanos());
    }
    throw failure(r, "timing " + modelName);
  }

  /** Checks the inputs and (re)builds the engine when their shapes are not the built ones. */
  private void builtFor(Map<String, Tensor> inputs) throws BackendException {
    checkInputs(inputs);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (TensorInfo t : signature.inputs()) {
      shapes.put(t.name(), inputs.get(t.name()).shape());
    }
    if (built == null || !sameShapes(shapes, builtShapes)) {
      releaseWorkerSession();
      build(shapes);
    }
  }

  @Override
  public BuildStats buildStats() {
    if (built == null) {
      return new BuildStats(
          Duration.ZERO,
          outputNames().size(),
          false,
          ImmutableList.of(
              "not built yet: the model has dynamic input shapes; it is built on the first run"));
    }
    ImmutableList.Builder<String> w =
        ImmutableList.<String>builder().addAll(rewriteWarnings).addAll(built.warnings());
    if (builds > 1) {
      w.add("built " + builds + " times because sample input shapes changed");
    }
    return new BuildStats(
        Duration.ofMillis(built.buildMillis()), built.outputNames().size(), false, w.build());
  }

  /**
   * One line per pinned node saying how the engine runs it (empty outside weak-typed FP16 with a
   * plan).
   */
  ImmutableList<String> planCheck() {
    return built == null ? ImmutableList.of() : built.planCheck();
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      releaseWorkerSession();
    }
  }

  private void build(Map<String, long[]> shapes) throws BackendException {
    // --jobs / parallelism(k): as many workers as builds at once, unless the count was set
    worker =
        pool.acquireForBuild(
            TrtSettings.workersGiven(options.properties()) ? 0 : options.concurrentBuilds());
    sessionId = worker.newSessionId();
    PrecisionPlan plan = options.plan();
    ImmutableList<String> pins =
        workerMode.equals("fp16") || workerMode.equals("strong") // strong: for the plan check
            ? ImmutableList.copyOf(plan.fp32Nodes())
            : ImmutableList.of();
    Request.Build req =
        new Request.Build(
            sessionId,
            modelName,
            model,
            workerMode,
            pins,
            options.observed(),
            ImmutableMap.copyOf(shapes),
            buildProperties);
    Response r;
    try {
      r = worker.client().call(req, settings.buildTimeout());
    } catch (BackendCrashException e) {
      lostWorker();
      throw e;
    }
    if (r instanceof Response.Built b) {
      built = b;
      builtShapes = shapes;
      builds++;
      return;
    }
    releaseWorkerSession();
    throw failure(r, "building " + modelName + " in trt:" + options.mode());
  }

  private void releaseWorkerSession() {
    if (worker != null) {
      if (worker.client().alive()) {
        try {
          worker.client().call(new Request.CloseSession(sessionId), Duration.ofSeconds(30));
        } catch (BackendCrashException e) {
          // the worker is gone; nothing left to release
        }
      }
      pool.sessionEnded(worker);
      worker = null;
      built = null;
    }
  }

  private void lostWorker() {
    if (worker != null) {
      pool.sessionEnded(worker);
      worker = null;
      built = null;
    }
  }

  private void checkInputs(Map<String, Tensor> inputs) {
    TreeSet<String> expected = new TreeSet<>();
    signature.inputs().forEach(t -> expected.add(t.name()));
    if (!expected.equals(new TreeSet<>(inputs.keySet()))) {
      throw new IllegalArgumentException(
          "model "
              + modelName
              + " expects inputs "
              + expected
              + ", given "
              + new TreeSet<>(inputs.keySet()));
    }
    for (TensorInfo t : signature.inputs()) {
      Tensor x = inputs.get(t.name());
      if (!t.accepts(x)) {
        throw new IllegalArgumentException(
            "input "
                + t.name()
                + " of "
                + modelName
                + ": expected "
                + t.describe()
                + ", given "
                + x.dtype().cliName()
                + " ["
                + Tensor.shapeToString(x.shape())
                + "]");
      }
    }
  }

  private static boolean sameShapes(Map<String, long[]> a, Map<String, long[]> b) {
    if (b == null || !a.keySet().equals(b.keySet())) {
      return false;
    }
    return a.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), b.get(e.getKey())));
  }

  static BackendException failure(Response r, String what) {
    if (r instanceof Response.Failure f) {
      switch (f.kind()) {
        case UNAVAILABLE:
          return new BackendUnavailableException(f.message());
        case BAD_ARGUMENT:
          throw new IllegalArgumentException(f.message());
        case UNOBSERVABLE:
          return new UnobservableTensorsException(f.message(), f.tensors());
        default:
          return new BackendException(what + " failed: " + f.message());
      }
    }
    return new BackendException(
        what + ": unexpected worker answer " + r.getClass().getSimpleName());
  }

  /** Parses {@code name:1x128,other:1x128}; empty map for null or blank. */
  static Map<String, long[]> parseShapes(String text) {
    Map<String, long[]> m = new LinkedHashMap<>();
    if (text == null || text.isBlank()) {
      return m;
    }
    for (String part : text.split(",")) {
      int c = part.lastIndexOf(':');
      if (c <= 0) {
        throw new IllegalArgumentException(
            SHAPES + " entry '" + part + "' must be NAME:DIMS, e.g. input_ids:1x128");
      }
      String[] dims = part.substring(c + 1).trim().split("x");
      long[] s = new long[dims.length];
      try {
        for (int i = 0; i < dims.length; i++) {
          s[i] = Long.parseLong(dims[i].trim());
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            SHAPES + " entry '" + part + "' has a non-numeric dimension", e);
      }
      m.put(part.substring(0, c).trim(), s);
    }
    return m;
  }
}
