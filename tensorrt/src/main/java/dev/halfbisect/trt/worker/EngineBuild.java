package dev.halfbisect.trt.worker;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.trt.engine.EngineLayer;
import dev.halfbisect.trt.engine.Fp32Carriers;
import dev.halfbisect.trt.engine.InspectorJson;
import dev.halfbisect.trt.engine.NetworkLayer;
import dev.halfbisect.trt.engine.ObservedTypes;
import dev.halfbisect.trt.engine.PlanCheck;
import dev.halfbisect.trt.engine.PrecisionConstraints;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import dev.halfbisect.trt.protocol.Response.FailureKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer.BuilderFlag;
import org.bytedeco.tensorrt.global.nvinfer.LayerInformationFormat;
import org.bytedeco.tensorrt.global.nvinfer.MemoryPoolType;
import org.bytedeco.tensorrt.global.nvinfer.OptProfileSelector;
import org.bytedeco.tensorrt.global.nvinfer.ProfilingVerbosity;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IEngineInspector;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ILayer;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.IRuntime;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;
import org.bytedeco.tensorrt.nvonnxparser.IParser;

/**
 * One engine build: parse the ONNX bytes, mark observed tensors, apply the mode's flags and the
 * plan's layer constraints, add an optimization profile for dynamic inputs, build with the shared
 * timing cache, deserialize, and for weak FP16 with pinned nodes check the plan against the engine
 * inspector's layer information.
 */
final class EngineBuild {
  /** What a build gave: a session, or the failure to answer with. */
  record Outcome(
      EngineSession session,
      Response.Failure failure,
      long buildMillis,
      ImmutableList<String> warnings,
      ImmutableList<String> planCheck) {
    static Outcome failed(Response.Failure failure) {
      return new Outcome(null, failure, 0, ImmutableList.of(), ImmutableList.of());
    }
  }

  /** A phase of the build: null when it went through, else the failure to answer with. */
  @FunctionalInterface
  private interface Phase {
    Response.Failure run();
  }

  /** The version-specific calls (issue 19). */
  private final TrtApi api = TrtApi.get();

  private final IBuilder builder;
  private final IRuntime runtime;
  private final TrtLogger logger;
  private final ITimingCache cache;
  private final Request.Build req;
  private final List<String> warnings = new ArrayList<>();
  private final Set<String> outputs = new LinkedHashSet<>();
  private final List<ObservedTypes.Marked> marked = new ArrayList<>();
  private Map<String, ITensor> tensors;
  // for each tensor a layer writes, that layer's index (observed tensors' layers, FP32 carriers)
  private Map<String, Integer> producers;
  private final Map<String, long[]> inputShapes = new LinkedHashMap<>();
  private INetworkDefinition network;
  private List<NetworkLayer> layers;
  private IBuilderConfig config;
  private PrecisionConstraints constraints;
  private ICudaEngine engine;
  private long millis;

  private EngineBuild(TrtHandles trt, ITimingCache cache, Request.Build req) {
    this.builder = trt.builder();
    this.runtime = trt.runtime();
    this.logger = trt.logger();
    this.cache = cache;
    this.req = req;
  }

  /** Builds {@code req} with the worker's TensorRT objects and shared timing cache. */
  static Outcome build(TrtHandles trt, ITimingCache cache, Request.Build req) {
    return new EngineBuild(trt, cache, req).run();
  }

  private Outcome run() {
    List<Phase> phases =
        List.of(this::parse, this::markObserved, this::configure, this::addProfile, this::compile);
    for (Phase phase : phases) {
      Response.Failure failure = phase.run();
      if (failure != null) {
        return Outcome.failed(failure);
      }
    }
    ImmutableList<String> planCheck = inspect();
    for (String w : new LinkedHashSet<>(logger.warnings())) {
      if (warnings.size() < 40) {
        warnings.add("TensorRT: " + w);
      }
    }
    EngineSession session =
        EngineSession.create(engine, inputShapes, ImmutableList.copyOf(outputs));
    return new Outcome(session, null, millis, ImmutableList.copyOf(warnings), planCheck);
  }

  /** The ONNX bytes into a network (strongly typed in mode {@code strong}); its layers. */
  private Response.Failure parse() {
    network = builder.createNetworkV2(api.networkFlags(req.mode().equals("strong")));
    IParser parser = nvonnxparser.createParser(network, logger);
    BytePointer model = new BytePointer(req.model());
    String modelDir = req.properties().get("halfbisect.trt.modelDir");
    boolean parsed =
        modelDir != null
            ? parser.parse(model, req.model().length, Path.of(modelDir, "model.onnx").toString())
            : parser.parse(model, req.model().length);
    if (!parsed) {
      List<String> errs = new ArrayList<>();
      for (int i = 0; i < parser.getNbErrors(); i++) {
        var e = parser.getError(i);
        errs.add("node " + e.nodeName() + " (" + e.nodeOperator() + "): " + e.desc());
      }
      return failure(
          FailureKind.BUILD_FAILED,
          "TensorRT's ONNX parser rejected " + req.modelName() + ": " + String.join("; ", errs));
    }
    layers = readLayers(network);
    return null;
  }

  /** The observed tensors marked as outputs; UNOBSERVABLE when the network has not some. */
  private Response.Failure markObserved() {
    tensors = tensorsByName(network);
    producers = producerLayers(network);
    for (int i = 0; i < network.getNbOutputs(); i++) {
      outputs.add(network.getOutput(i).getName());
    }
    List<String> missing = new ArrayList<>();
    for (String name : req.observed()) {
      if (outputs.contains(name)) {
        continue;
      }
      ITensor t = tensors.get(name);
      if (t == null) {
        missing.add(name);
        continue;
      }
      if (!t.isNetworkInput()) { // a graph input is returned as given; TensorRT cannot output it
        network.markOutput(t);
        outputs.add(name);
        marked.add(
            new ObservedTypes.Marked(
                name, producers.getOrDefault(name, -1), NativeTypes.isFloat(t.getType())));
      }
    }
    if (missing.isEmpty()) {
      return null;
    }
    String msg =
        "model "
            + req.modelName()
            + " has no tensor named "
            + missing.subList(0, Math.min(10, missing.size()))
            + (missing.size() > 10 ? " (and " + (missing.size() - 10) + " more)" : "")
            + " after TensorRT parsed it (constant-folded, or misspelled)";
    return new Response.Failure(FailureKind.UNOBSERVABLE, msg, ImmutableList.copyOf(missing));
  }

  /**
   * The builder config: detailed profiling, the shared timing cache, the workspace limit, and the
   * mode's flags; in weak FP16 the plan's layers pinned to FP32 with OBEY.
   */
  private Response.Failure configure() {
    config = builder.createBuilderConfig();
    config.setProfilingVerbosity(ProfilingVerbosity.kDETAILED);
    config.setTimingCache(cache, false);
    String ws = req.properties().get("halfbisect.trt.workspaceMiB");
    if (ws != null) {
      config.setMemoryPoolLimit(MemoryPoolType.kWORKSPACE, Long.parseLong(ws.trim()) << 20);
    }
    String level = req.properties().get("halfbisect.trt.builderOptimizationLevel");
    if (level != null) {
      config.setBuilderOptimizationLevel(Integer.parseInt(level.trim()));
    }
    // FP32 layers in FP32 in every mode but tf32, as in the reference, the emulation and
    // Polygraphy (TensorRT's builder allows TF32, FP16's 10 mantissa bits, by default)
    config.clearFlag(BuilderFlag.kTF32);
    switch (req.mode()) {
      case "fp32":
        return null;
      case "tf32":
        config.setFlag(BuilderFlag.kTF32);
        return null;
      case "fp16":
        if (!api.hasWeakTyping()) {
          return failure(
              FailureKind.BAD_ARGUMENT,
              "this worker was compiled for TensorRT "
                  + api.presetsMajor()
                  + ", which has no weak typing: build "
                  + req.modelName()
                  + " in trt:fp16-strong");
        }
        api.enableFp16(config);
        if (!req.fp32Nodes().isEmpty()) {
          pinFp32Layers();
        }
        return typeObserved();
      case "strong":
        return null;
      default:
        return failure(FailureKind.BAD_ARGUMENT, "unknown worker build mode " + req.mode());
    }
  }

  /**
   * Under {@code halfbisect.trt.observedAs=fp16}: the observed float tensors of layers not pinned
   * to FP32 become FP16 outputs, so marking them does not make their layers write FP32; those of
   * layers that only move FP32 data keep it ({@link Fp32Carriers}).
   */
  private Response.Failure typeObserved() {
    ObservedTypes.Mode mode;
    try {
      mode = ObservedTypes.Mode.parse(req.properties().get(ObservedTypes.PROPERTY));
    } catch (IllegalArgumentException e) {
      return failure(FailureKind.BAD_ARGUMENT, e.getMessage());
    }
    if (mode == ObservedTypes.Mode.FP32) {
      return null;
    }
    List<Integer> pinned =
        constraints == null
            ? List.of()
            : constraints.constraints().stream()
                .map(PrecisionConstraints.LayerConstraint::layerIndex)
                .toList();
    Set<Integer> carriers = Fp32Carriers.of(readFlows(network), producers, pinned);
    Set<Integer> fp32 = new HashSet<>(pinned);
    fp32.addAll(carriers);
    List<String> half = ObservedTypes.halfTyped(mode, marked, fp32);
    for (String name : half) {
      api.typeHalf(tensors.get(name));
    }
    long kept = marked.stream().filter(m -> carriers.contains(m.layerIndex())).count();
    if (!half.isEmpty() || kept > 0) {
      WorkerLog.info(
          half.size()
              + " observed tensors typed FP16 ("
              + ObservedTypes.PROPERTY
              + "), "
              + kept
              + " kept FP32 (data moved from FP32 tensors)");
    }
    return null;
  }

  /** OBEY constraints: the layers of the plan's FP32 nodes compute and output in FP32. */
  private void pinFp32Layers() {
    api.obeyPrecisionConstraints(config);
    constraints = PrecisionConstraints.decide(layers, req.fp32Nodes());
    for (PrecisionConstraints.LayerConstraint c : constraints.constraints()) {
      api.pinFp32(network.getLayer(c.layerIndex()), c.floatOutputs());
    }
    if (!constraints.unmatchedNodes().isEmpty()) {
      warnings.add(
          "pinned nodes with no TensorRT layer (folded by the parser or misspelled): "
              + constraints.unmatchedNodes());
    }
  }

  /**
   * The input shapes (the samples' where given); an optimization profile fixing them for inputs
   * declared with dynamic dims.
   */
  private Response.Failure addProfile() {
    IOptimizationProfile profile = null;
    for (int i = 0; i < network.getNbInputs(); i++) {
      ITensor in = network.getInput(i);
      long[] declared = NativeTypes.shape(in.getDimensions());
      long[] given = req.shapes().get(in.getName());
      long[] shape = given != null ? given : declared;
      for (long d : shape) {
        if (d < 0) {
          return failure(
              FailureKind.BAD_ARGUMENT,
              "input "
                  + in.getName()
                  + " of "
                  + req.modelName()
                  + " has dynamic shape "
                  + java.util.Arrays.toString(declared)
                  + " and no sample shape was given");
        }
      }
      boolean dynamic = false;
      for (long d : declared) {
        dynamic |= d < 0;
      }
      if (dynamic) {
        if (profile == null) {
          profile = builder.createOptimizationProfile();
        }
        for (OptProfileSelector sel :
            new OptProfileSelector[] {
              OptProfileSelector.kMIN, OptProfileSelector.kOPT, OptProfileSelector.kMAX
            }) {
          profile.setDimensions(in.getName(), sel, NativeTypes.dims(shape));
        }
      }
      inputShapes.put(in.getName(), shape);
    }
    if (profile != null) {
      config.addOptimizationProfile(profile);
    }
    return null;
  }

  /** Builds the serialized engine (timed) and deserializes it. */
  private Response.Failure compile() {
    long t0 = System.nanoTime();
    IHostMemory plan = builder.buildSerializedNetwork(network, config);
    millis = (System.nanoTime() - t0) / 1_000_000;
    if (plan == null || plan.isNull()) {
      return failure(
          FailureKind.BUILD_FAILED,
          "TensorRT could not build "
              + req.modelName()
              + " in mode "
              + req.mode()
              + ": "
              + String.join("; ", TrtService.tail(logger.errors(), 5)));
    }
    WorkerLog.info(
        "built "
            + req.modelName()
            + " ("
            + req.mode()
            + ", "
            + req.fp32Nodes().size()
            + " pinned, "
            + req.observed().size()
            + " observed) in "
            + millis
            + " ms");
    engine = runtime.deserializeCudaEngine(plan.data(), plan.size());
    if (engine == null || engine.isNull()) {
      return failure(
          FailureKind.BUILD_FAILED,
          "TensorRT could not load the engine it built for "
              + req.modelName()
              + ": "
              + String.join("; ", TrtService.tail(logger.errors(), 5)));
    }
    return null;
  }

  /**
   * The engine inspector's layer information, where asked for: dumped to files, and for pinned
   * nodes checked against the plan (the check's lines; its findings become warnings). Issue 19:
   * strongly typed builds with pinned nodes are checked too (the pinned node keeps its name in the
   * Cast-placed model), and every checked build says which share of its float tensors is in half
   * precision.
   */
  private ImmutableList<String> inspect() {
    String dump = req.properties().get("halfbisect.trt.dumpEngineInfo");
    boolean check =
        constraints != null || (req.mode().equals("strong") && !req.fp32Nodes().isEmpty());
    if (!check && dump == null) {
      return ImmutableList.of();
    }
    IEngineInspector inspector = engine.createEngineInspector();
    String json = inspector.getEngineInformation(LayerInformationFormat.kJSON);
    if (dump != null) {
      writeDump(dump, req, json, layers);
    }
    if (!check) {
      return ImmutableList.of();
    }
    List<EngineLayer> engineLayers = InspectorJson.parse(json);
    ImmutableList<PlanCheck.NodeCheck> checks =
        PlanCheck.check(layers, engineLayers, req.fp32Nodes());
    // the summary first: reports list the first dozen notes of a build
    warnings.add(PlanCheck.halfShare(engineLayers).describe());
    warnings.addAll(PlanCheck.warnings(checks));
    return checks.stream()
        .map(PlanCheck.NodeCheck::toLine)
        .collect(ImmutableList.toImmutableList());
  }

  private static Response.Failure failure(FailureKind kind, String message) {
    return new Response.Failure(kind, message);
  }

  static List<NetworkLayer> readLayers(INetworkDefinition network) {
    List<NetworkLayer> out = new ArrayList<>();
    for (int i = 0; i < network.getNbLayers(); i++) {
      ILayer l = network.getLayer(i);
      ImmutableList.Builder<Boolean> floats = ImmutableList.builder();
      for (int o = 0; o < l.getNbOutputs(); o++) {
        floats.add(NativeTypes.isFloat(l.getOutput(o).getType()));
      }
      out.add(
          new NetworkLayer(
              i, l.getName(), l.getMetadata(), NativeTypes.name(l.getType()), floats.build()));
    }
    return out;
  }

  /** Each layer's type and the float tensors it reads (for {@link Fp32Carriers}). */
  static List<Fp32Carriers.Flow> readFlows(INetworkDefinition network) {
    List<Fp32Carriers.Flow> out = new ArrayList<>();
    for (int i = 0; i < network.getNbLayers(); i++) {
      ILayer l = network.getLayer(i);
      ImmutableList.Builder<String> floats = ImmutableList.builder();
      for (int j = 0; j < l.getNbInputs(); j++) {
        ITensor in = l.getInput(j);
        if (in != null && !in.isNull() && NativeTypes.isFloat(in.getType())) {
          floats.add(in.getName());
        }
      }
      out.add(new Fp32Carriers.Flow(i, NativeTypes.name(l.getType()), floats.build()));
    }
    return out;
  }

  /** For each layer output, the index of its layer. */
  private static Map<String, Integer> producerLayers(INetworkDefinition network) {
    Map<String, Integer> m = new java.util.HashMap<>();
    for (int i = 0; i < network.getNbLayers(); i++) {
      ILayer l = network.getLayer(i);
      for (int o = 0; o < l.getNbOutputs(); o++) {
        m.putIfAbsent(l.getOutput(o).getName(), i);
      }
    }
    return m;
  }

  private static Map<String, ITensor> tensorsByName(INetworkDefinition network) {
    Map<String, ITensor> m = new LinkedHashMap<>();
    for (int i = 0; i < network.getNbInputs(); i++) {
      m.put(network.getInput(i).getName(), network.getInput(i));
    }
    for (int i = 0; i < network.getNbLayers(); i++) {
      ILayer l = network.getLayer(i);
      for (int o = 0; o < l.getNbOutputs(); o++) {
        ITensor t = l.getOutput(o);
        m.putIfAbsent(t.getName(), t);
      }
    }
    return m;
  }

  private static void writeDump(
      String dir, Request.Build req, String json, List<NetworkLayer> layers) {
    try {
      Path d = Path.of(dir);
      Files.createDirectories(d);
      String base =
          req.modelName().replaceAll("[^A-Za-z0-9._-]+", "_")
              + "-"
              + req.mode()
              + "-s"
              + req.sessionId();
      SafeFiles.writeString(d.resolve(base + ".engine.json"), json);
      StringBuilder tsv = new StringBuilder("index\tname\ttype\tfloatOutputs\tmetadata\n");
      for (NetworkLayer l : layers) {
        tsv.append(l.index())
            .append('\t')
            .append(l.name())
            .append('\t')
            .append(l.type())
            .append('\t')
            .append(l.floatOutputs().stream().map(b -> b ? "1" : "0").reduce("", String::concat))
            .append('\t')
            .append(l.metadata().replace("\u001e", "\\x1e"))
            .append('\n');
      }
      SafeFiles.writeString(d.resolve(base + ".network.tsv"), tsv.toString());
    } catch (IOException e) {
      WorkerLog.warn("could not write engine information to " + dir + ": " + e);
    }
  }
}
