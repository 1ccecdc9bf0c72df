package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.core.data.SampleFiles;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.InitializerRangeReport;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The entry point for test harnesses and the CLI: a model, its inputs, a reference and a candidate
 * backend, a tolerance; then one terminal operation per question.
 *
 * <pre>{@code
 * HalfBisect hb = HalfBisect.model(Path.of("model.onnx"))
 *     .input("input_ids:1x128:int64:1000..21000")
 *     .reference("ort:fp32").candidate("ort:fp16-emulated");
 * CompareResult r = hb.compare();          // graph outputs
 * DiagnosisResult d = hb.diagnose();       // where, why, and the fix
 * }</pre>
 *
 * <p>Immutable: every configuration call returns a new instance. Validation is eager: a missing
 * file, an unknown backend or mode, an input that the model does not have or whose dtype/shape does
 * not fit, a plan naming nodes the model lacks throw {@link HalfBisectException} (kind {@code
 * USAGE}) or {@link IllegalArgumentException} at the call, before any backend starts. A model that
 * cannot be read or is not a valid graph (no nodes or outputs, a cycle, a tensor produced twice or
 * read but never produced) throws kind {@code MODEL} from {@code model(...)}. Operations open
 * backend sessions and close them before returning; no native type appears in this API.
 *
 * <p>The model is read, indexed and sorted once, in {@code model(...)}, and shared by every copy
 * configured from it. Node names are onnx-surgery's ({@link OnnxModel}): an unnamed node at
 * position k becomes {@code <OpType>_<k>}, a node repeating an earlier node's name {@code
 * <name>__<n>}; plans, reports and {@link #nodeNames()} use these names.
 *
 * <p>Defaults: reference {@code trt:fp32} and candidate {@code trt:fp16} when the TensorRT backend
 * is available, else {@code ort:fp32} and {@code ort:fp16-emulated}; one sample, seed 0, {@link
 * Tolerance#fp16Default()}, all-FP16 plan; inputs not given are derived from the model (see the
 * notes in each report).
 */
public final class HalfBisect {
  private final ModelGraph graph;
  private final AnalysisSettings settings;

  private HalfBisect(ModelGraph graph, AnalysisSettings settings) {
    this.graph = graph;
    this.settings = settings;
  }

  /**
   * Starts from an ONNX file (external data is resolved next to it).
   *
   * @throws HalfBisectException USAGE when the file is missing, MODEL when it is not ONNX
   */
  public static HalfBisect model(Path onnx) {
    Preconditions.checkNotNull(onnx, "model path");
    return fresh(GraphLoader.load(onnx));
  }

  /**
   * Starts from a model held in memory.
   *
   * @param baseDir folder of its external data, or null
   * @param name shown in reports
   */
  public static HalfBisect model(Onnx.ModelProto proto, Path baseDir, String name) {
    Preconditions.checkNotNull(proto, "model");
    return fresh(GraphLoader.open(OnnxModel.of(proto, baseDir, name == null ? "model" : name)));
  }

  /**
   * Starts from an onnx-surgery model (e.g. one built with the graph builder or cut by surgery).
   */
  public static HalfBisect model(OnnxModel model) {
    Preconditions.checkNotNull(model, "model");
    return fresh(GraphLoader.open(model));
  }

  private static HalfBisect fresh(ModelGraph g) {
    return new HalfBisect(g, AnalysisSettings.defaults());
  }

  /** The same model with changed settings (the graph is shared, never re-read). */
  private HalfBisect with(Consumer<AnalysisSettings.Builder> change) {
    return new HalfBisect(graph, settings.with(change));
  }

  /**
   * Caps the candidate builds a precision search may spend (default {@value
   * PrecisionSearch.Options#DEFAULT_MAX_SEARCH_BUILDS}, for precision and diagnose alike). With
   * TensorRT each build takes seconds; when the cap is reached the smallest passing FP32 set found
   * so far is returned, marked as not shown 1-minimal, and the report says why the search stopped.
   */
  public HalfBisect maxBuilds(int n) {
    Preconditions.checkArgument(n >= 1, "maxBuilds must be >= 1, got %s", n);
    return with(b -> b.search = b.search.withMaxSearchBuilds(n));
  }

  /**
   * Whether the precision search pins nodes that overflow FP16 on their own before it searches
   * (default true): such an overflow can hide behind output tolerance on the samples yet break on
   * other inputs. False searches only for the smallest set that makes the outputs pass.
   */
  public HalfBisect pinOverflows(boolean pin) {
    return with(b -> b.search = b.search.withPinOverflows(pin));
  }

  /**
   * How much each build may observe (default {@link ObservationLimits#defaults()}): lower for less
   * memory, higher for fewer builds on large models.
   */
  public HalfBisect observationLimits(ObservationLimits l) {
    Preconditions.checkNotNull(l, "observation limits");
    return with(b -> b.limits = l);
  }

  // issue 18: parallel probes, reference cache, emulation first

  /** Size cap of a reference cache folder, in MiB (the least recently used runs go first). */
  public static final long REFERENCE_CACHE_MAX_MIB = 2048;

  /**
   * Candidate probes of one round built at once (default 1): first divergence probes k positions a
   * round (ceil(log_{k+1} N) + 1 rounds), the precision search tests k subsets or complements a
   * round, layerwise builds k chunks a round. With TensorRT, give the backend as many workers
   * ({@code -Dhalfbisect.trt.workers}, see the user guide); ONNX Runtime sessions run side by side.
   */
  public HalfBisect parallelism(int k) {
    Preconditions.checkArgument(k >= 1, "parallelism must be >= 1, got %s", k);
    return with(b -> b.parallelism = k);
  }

  /**
   * Emulation probes run at once in an emulation-first search (default: {@code max(parallelism,
   * min(4, cores / 4))}, see {@link AnalysisSettings#emulationJobs}).
   */
  public HalfBisect emulationParallelism(int k) {
    Preconditions.checkArgument(k >= 1, "emulationParallelism must be >= 1, got %s", k);
    return with(b -> b.emulationParallelism = k);
  }

  /**
   * Share of the normalized-error bound a plan's outputs may use while {@code precision} searches
   * (default 1, the whole bound). TensorRT times its kernels at every build, so another build of
   * the same plan can err more: on an H200 one MiniLM plan found at 98% of its bound erred 1.32x
   * more on a rebuild (docs/PERFORMANCE.md). A share below 1 keeps that much room; the verdict
   * still checks the plan against the whole bound. Only for the normalized-error check: with
   * atol/rtol or per-tensor bounds {@code precision} refuses it.
   */
  public HalfBisect searchMargin(double share) {
    if (!(share > 0 && share <= 1)) {
      throw HalfBisectException.usage("search margin must be in (0, 1], got " + share);
    }
    return with(b -> b.searchMargin = share);
  }

  /**
   * Keeps reference values in {@code dir} (keyed by model, inputs and reference backend, at most
   * {@value #REFERENCE_CACHE_MAX_MIB} MiB, runs unused for 30 days deleted), so that a later
   * operation, also in another process, does not run the reference again. Off by default in the
   * API; the CLI turns it on under {@code ~/.cache/halfbisect/reference} or {@code
   * -Dhalfbisect.cacheDir}.
   */
  public HalfBisect referenceCache(Path dir) {
    Preconditions.checkNotNull(dir, "reference cache folder");
    // refused here, not left to a warning at the first run (which then ran the reference anyway):
    // the folder, or the nearest part of its path that exists, must be a folder
    Path existing = dir.toAbsolutePath();
    while (existing != null && !java.nio.file.Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing != null && !java.nio.file.Files.isDirectory(existing)) {
      throw HalfBisectException.usage(
          "reference cache "
              + dir
              + ": "
              + existing
              + " is a file; give a folder (it is created if missing)");
    }
    return with(b -> b.referenceCache = dir);
  }

  /** No reference values kept between operations (the default of the API). */
  public HalfBisect noReferenceCache() {
    return with(b -> b.referenceCache = null);
  }

  /**
   * Where {@code precision} and {@code bisect} search (default {@link SearchOn#AUTO}: on FP16
   * emulation first when the candidate is TensorRT; the precision plan is then confirmed and made
   * 1-minimal on the candidate, the bisect answer checked there first).
   */
  public HalfBisect searchOn(SearchOn side) {
    Preconditions.checkNotNull(side, "search side");
    return with(b -> b.searchOn = side);
  }

  /**
   * Caps the builds of the emulation side of an emulation-first precision search (default {@value
   * AnalysisSettings#DEFAULT_MAX_EMULATION_BUILDS}); {@link #maxBuilds(int)} caps the candidate's.
   */
  public HalfBisect maxEmulationBuilds(int n) {
    Preconditions.checkArgument(n >= 1, "maxEmulationBuilds must be >= 1, got %s", n);
    return with(b -> b.maxEmulationBuilds = n);
  }

  /**
   * The backend an emulation-first search runs on, {@code BACKEND:MODE} (default: the emulation of
   * the candidate's type and typing, {@link SearchOn#matchingEmulation}: {@code ort:fp16-emulated}
   * for {@code trt:fp16}, {@code ort:bf16-strong-emulated} for {@code trt:bf16-strong}).
   */
  public HalfBisect emulation(String backendSpec) {
    Preconditions.checkNotNull(backendSpec, "emulation backend");
    BackendSpec spec;
    try {
      spec = BackendSpec.parse(backendSpec);
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage("emulation backend " + backendSpec + ": " + e.getMessage());
    }
    return with(b -> b.emulation = spec);
  }

  /**
   * Adds an input spec {@code NAME:SHAPE:DTYPE:FILL}, e.g. {@code
   * input_ids:1x128:int64:1000..21000}.
   */
  public HalfBisect input(String spec) {
    Preconditions.checkNotNull(spec, "input spec");
    return input(InputPlan.parse(spec));
  }

  /** Adds an input spec (core {@link InputSpec}); a later spec of the same input replaces it. */
  public HalfBisect input(InputSpec s) {
    Preconditions.checkNotNull(s, "input spec");
    return validated(b -> b.inputSpec(s));
  }

  /** Uses these tensors as inputs (in every sample); inputs not given are generated. */
  public HalfBisect inputs(Map<String, Tensor> tensors) {
    Preconditions.checkNotNull(tensors, "inputs");
    return validated(b -> b.givenInputs.putAll(tensors));
  }

  /**
   * Loads inputs from a {@code .npz} (arrays named like the model inputs), a {@code .npy}, a
   * Polygraphy inputs {@code .json} or a folder of them ({@link #loadInputs(List, boolean)}). One
   * sample read is used in every sample; several make a sample set.
   */
  public HalfBisect loadInputs(Path npz) {
    Preconditions.checkNotNull(npz, "inputs file");
    return loadInputs(List.of(npz), false);
  }

  // issue 15: sample sets from files and folders, real text, holdout, headroom

  /**
   * Loads a sample set (issue 15): each {@code .npz} is one sample, a {@code .npy} one sample of
   * the input named by its stem, a {@code .json} Polygraphy's {@code --save-inputs} list of
   * samples; a folder stands for those files in it, in name order. With {@code sampleAxis} every
   * array's leading axis counts samples and is split (a slice keeps that axis with size 1 when the
   * model's input has the array's rank, and drops it when the input has one dim less). A single
   * sample is used in every sample (with {@link #samples} generated inputs vary); more samples set
   * the sample count.
   */
  public HalfBisect loadInputs(List<Path> paths, boolean sampleAxis) {
    Preconditions.checkNotNull(paths, "inputs files");
    if (paths.isEmpty()) {
      throw HalfBisectException.usage(
          "inputs to load: none given; expected at least one .npz or .npy file or folder");
    }
    List<Map<String, Tensor>> loaded;
    try {
      loaded =
          SampleFiles.load(
              paths,
              sampleAxis
                  ? (name, rank) -> graph.shape(name).map(s -> s.length).orElse(-1) == rank
                  : null);
    } catch (IOException
        | IllegalArgumentException
        | dev.halfbisect.core.data.NpyFormatException e) {
      // a file the user gave that is not what was expected is a usage error (exit 2), as a
      // mismatched dtype is
      throw HalfBisectException.usage(
          "cannot read inputs " + describePaths(paths) + ": " + e.getMessage());
    }
    if (loaded.isEmpty() || loaded.stream().anyMatch(Map::isEmpty)) {
      // an empty .npz was quietly replaced by generated inputs
      throw HalfBisectException.usage(
          "inputs "
              + describePaths(paths)
              + " holds no arrays; expected arrays named like the model's inputs "
              + graph.graphInputs());
    }
    if (loaded.size() == 1) {
      return inputs(loaded.get(0));
    }
    return validated(
        b ->
            loaded.forEach(m -> b.sampleSet.add(com.google.common.collect.ImmutableMap.copyOf(m))));
  }

  /**
   * Real text as the sample set (issue 15): one non-blank line of {@code text} a sample, tokenized
   * with the HuggingFace {@code tokenizer.json} by DJL (offline) and padded or truncated to the
   * model's sequence length (its static last dim of the token-id input, else the length an {@code
   * --input} spec of it gives, else 128). Token ids fill the inputs named like {@code *ids*}, the
   * attention mask {@code *mask*}, type ids {@code *type*}.
   */
  public HalfBisect text(Path text, Path tokenizerJson) {
    Preconditions.checkNotNull(text, "text file");
    Preconditions.checkNotNull(tokenizerJson, "tokenizer");
    for (Path p : List.of(text, tokenizerJson)) {
      if (!java.nio.file.Files.isRegularFile(p)) {
        throw HalfBisectException.usage(
            (p == text ? "text file " : "tokenizer ") + p + ": file not found");
      }
    }
    Map<String, dev.halfbisect.core.DType> roles = new java.util.LinkedHashMap<>();
    long seqLen = -1;
    for (String in : graph.graphInputs()) {
      dev.halfbisect.core.DType t = graph.elementType(in).orElse(null);
      if (t != dev.halfbisect.core.DType.INT64 && t != dev.halfbisect.core.DType.INT32) {
        continue;
      }
      if (TextSamples.roleOf(in) == null) {
        continue;
      }
      roles.put(in, t);
      long[] shape = graph.shape(in).orElse(new long[0]);
      long last = shape.length == 0 ? -1 : shape[shape.length - 1];
      if (last > 0) {
        seqLen = last;
      }
      for (InputSpec s : settings.inputSpecs()) {
        long[] ss = s.shape();
        if (s.name().equals(in) && ss.length > 0 && seqLen < 0) {
          seqLen = ss[ss.length - 1];
        }
      }
    }
    if (roles.values().isEmpty()
        || roles.keySet().stream().noneMatch(n -> TextSamples.roleOf(n) == TextSamples.Role.IDS)) {
      throw HalfBisectException.usage(
          "text samples: model "
              + graph.name()
              + " has no integer token-id input (named like *ids*) to fill from text; its inputs are "
              + String.join(", ", graph.graphInputs()));
    }
    int len = (int) (seqLen > 0 ? seqLen : 128);
    List<Map<String, Tensor>> samples;
    try {
      samples = TextSamples.tokenize(text, tokenizerJson, roles, len);
    } catch (NoClassDefFoundError e) {
      // DJL is an optional dependency of this module (the cli brings it)
      throw HalfBisectException.usage(
          "text samples need ai.djl.huggingface:tokenizers on the class path: " + e.getMessage());
    }
    return validated(
        b -> {
          b.sampleSet.clear();
          samples.forEach(m -> b.sampleSet.add(com.google.common.collect.ImmutableMap.copyOf(m)));
          b.inputSpecs.removeIf(sp -> roles.containsKey(sp.name()));
        });
  }

  /**
   * Samples the precision search keeps back to validate its plan (issue 15): the last {@code k}
   * samples are not searched on, and the plan found is checked on them; the report says whether it
   * holds there. Default: a quarter of the samples (at least 1) with 4 samples or more, none below;
   * 0 turns it off.
   */
  public HalfBisect holdout(int k) {
    Preconditions.checkArgument(k >= 0, "holdout must be >= 0, got %s", k);
    return with(b -> b.holdout = k);
  }

  /**
   * Share of FP16's largest finite value (65504) from which a tensor's reference magnitude is
   * reported at risk (issue 15; default 0.5): listed with its margin, the location of its extreme
   * and the sample that came closest, also when everything passes.
   */
  public HalfBisect headroom(double share) {
    if (!(share > 0 && share <= 1)) {
      throw HalfBisectException.usage("headroom must be in (0, 1], got " + share);
    }
    return with(b -> b.headroom = share);
  }

  private static String describePaths(List<Path> paths) {
    return paths.stream().map(Path::toString).collect(Collectors.joining(", "));
  }

  /** The reference backend and mode, e.g. {@code ort:fp32}. */
  public HalfBisect reference(String spec) {
    BackendSpec s = checkBackend(spec, "reference");
    if (s.mode().contains("fp16") || s.mode().contains("bf16")) {
      // the reference's plan keeps every node in FP32, so a low-precision mode ran as FP32 while
      // the reports named it
      String full = Backends.get(s.backend()).referenceMode();
      throw HalfBisectException.usage(
          "reference "
              + s
              + " is a low-precision mode; the reference is the full-precision run the candidate"
              + " is measured against: give "
              + s.backend()
              + ":"
              + full
              + " (and the low-precision mode as --candidate)");
    }
    return with(b -> b.reference = s);
  }

  /** The candidate backend and mode, e.g. {@code ort:fp16-emulated}, {@code trt:fp16}. */
  public HalfBisect candidate(String spec) {
    BackendSpec s = checkBackend(spec, "candidate");
    return with(b -> b.candidate = s);
  }

  /**
   * The tolerance; per-tensor overrides ({@link Tolerance#withOverride}, e.g. an atol for one
   * output, as Polygraphy's {@code --atol out:1e-3}) must name float tensors of the model.
   */
  public HalfBisect tolerance(Tolerance t) {
    Preconditions.checkNotNull(t, "tolerance");
    for (String name : t.overrides().keySet()) {
      if (!graph.isFloat(name)) {
        throw HalfBisectException.usage(
            "tolerance for tensor '"
                + name
                + "': "
                + graph.name()
                + " has no float tensor of that name (outputs: "
                + String.join(", ", graph.graphOutputs())
                + ")");
      }
    }
    return with(b -> b.tolerance = t);
  }

  /** Number of input samples (each tensor's worst sample decides). */
  public HalfBisect samples(int n) {
    Preconditions.checkArgument(n >= 1, "samples must be >= 1, got %s", n);
    return with(b -> b.samples = n);
  }

  public HalfBisect seed(long s) {
    return with(b -> b.seed = s);
  }

  /** The precision plan applied to the candidate (the starting point of {@code precision}). */
  public HalfBisect plan(PrecisionPlan p) {
    Preconditions.checkNotNull(p, "plan");
    List<String> unknown =
        p.fp32Nodes().stream().filter(n -> !graph.hasNode(n)).collect(Collectors.toList());
    if (!unknown.isEmpty()) {
      throw HalfBisectException.usage(
          "precision plan names node(s) that model "
              + graph.name()
              + " does not have: "
              + String.join(", ", unknown.subList(0, Math.min(5, unknown.size())))
              + (unknown.size() > 5 ? " and " + (unknown.size() - 5) + " more" : ""));
    }
    return with(
        b -> {
          b.plan = p;
          b.planFrom = null; // issue 19: an explicit plan replaces one read with planFrom
        });
  }

  /**
   * Issue 19: the plan an existing mixed-precision model encodes (converted to FP16 or BF16 with
   * Casts, by ModelOpt AutoCast, onnxconverter-common or {@code surgeon fp16}): the nodes it keeps
   * in FP32, mapped to this model's node names, become the candidate's plan; {@code precision}
   * starts from that set and shrinks it, saying how many of its nodes were unnecessary.
   *
   * @throws HalfBisectException (usage) when the file is missing or not a converted form of this
   *     model; (model) when it cannot be read
   */
  public HalfBisect planFrom(Path convertedModel) {
    PlanFrom from = PlanFrom.read(convertedModel, graph);
    return plan(from.derived().plan()).with(b -> b.planFrom = from);
  }

  /** Folder for files the operations write (plan.json, trtexec-flags.txt, reduced.onnx). */
  public HalfBisect outDir(Path dir) {
    Preconditions.checkNotNull(dir, "outDir");
    return with(b -> b.outDir = dir);
  }

  // issue 16: files a run must never write over
  /** The files the model's external data is read from (absolute), so callers can protect them. */
  public List<Path> externalDataFiles() {
    return graph.model().externalDataFiles();
  }

  // issue 16: resumable runs
  /**
   * Keeps the decided candidate probes in {@code file} (JSON lines, each forced to disk): an
   * operation run again with the same model, inputs, backends and tolerance reads them instead of
   * building again, so a killed search resumes where it stopped. A journal written for another
   * configuration is started over.
   */
  public HalfBisect journal(Path file) {
    Preconditions.checkNotNull(file, "journal");
    return with(
        b -> {
          b.journal = file;
          b.freshJournal = false;
        });
  }

  /**
   * Like {@link #journal(Path)} but ignores what {@code file} holds: every probe is built again.
   */
  public HalfBisect freshJournal(Path file) {
    Preconditions.checkNotNull(file, "journal");
    return with(
        b -> {
          b.journal = file;
          b.freshJournal = true;
        });
  }

  /**
   * Whether {@code precision} and {@code diagnose} time the plan they found (default true; issue
   * 20): FP32, all-FP16 and the plan's engine on the candidate backend, three extra builds (four
   * when an outputs-only plan competes with the overflow-pinned one on a GPU). False skips it.
   */
  public HalfBisect price(boolean on) {
    return with(b -> b.price = on);
  }

  public HalfBisect listener(ProgressListener l) {
    Preconditions.checkNotNull(l, "listener");
    return with(b -> b.listener = l);
  }

  // issue 15: the API form of `inspect`'s weight table
  /**
   * FP16 range of every float weight, initializers and {@code Constant} node values alike (what
   * {@code halfbisect inspect} prints): no backend, no inputs. {@link
   * InitializerRangeReport#risky()} lists the weights FP16 storage damages.
   */
  public InitializerRangeReport weightRanges() {
    return InitializerRangeReport.of(graph.model());
  }

  /**
   * Uses the reference outputs saved in {@code file} (by {@link #saveOutputs} or {@code
   * --save-outputs}) instead of running the reference on them: with TensorRT, the FP32 engine is
   * built once per model and inputs. The file must belong to this model, these inputs and this
   * reference backend (checked when the operation runs; a mismatch is a usage error).
   */
  public HalfBisect loadOutputs(Path file) {
    Preconditions.checkNotNull(file, "outputs file");
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw HalfBisectException.usage("reference outputs " + file + ": file not found");
    }
    return with(b -> b.referenceOutputs = new ReferenceOutputs(file, b.referenceOutputs.save()));
  }

  /**
   * After each operation, writes the reference's graph outputs with the digests of the model and
   * the inputs to {@code file} (an {@code .npz}, see {@code core.data.SavedOutputs}).
   */
  public HalfBisect saveOutputs(Path file) {
    Preconditions.checkNotNull(file, "outputs file");
    return with(b -> b.referenceOutputs = new ReferenceOutputs(b.referenceOutputs.load(), file));
  }

  /** Graph outputs, reference vs candidate. */
  public CompareResult compare() {
    return run(Operations::compare);
  }

  /**
   * {@link #compare()}, and only when the outputs fail, {@link #explain()} on the same analysis (no
   * build repeated): the result's {@link CompareResult#explanation()} says where and why. What the
   * JUnit assertions run.
   */
  public CompareResult compareAndExplain() {
    return run(Operations::compareAndExplain);
  }

  /** Every floating-point tensor observed in one candidate build, topological order. */
  public LayerwiseResult layerwise() {
    return run(Operations::layerwise);
  }

  /** First divergent tensor by bisection (one observed tensor per candidate build). */
  public BisectResult bisect() {
    return run(Operations::bisect);
  }

  /** Local vs accumulated error and amplification per node (shadow graph, one extra build). */
  public AmplifyResult amplify() {
    return run(Operations::amplify);
  }

  /** Searches the nodes to keep in FP32 so that the outputs pass. */
  public PrecisionResult precision() {
    return run(Operations::precision);
  }

  /** The smallest subgraph around the first failing tensor that still fails on its own. */
  public ReduceResult reduce() {
    return run(Operations::reduce);
  }

  /** Compare, layerwise, amplify and, when the outputs fail, precision: where, why and the fix. */
  public DiagnosisResult diagnose() {
    return run(Operations::diagnose);
  }

  /**
   * Where and why without the fix: layerwise and amplify in one report with root causes (no
   * precision search).
   */
  public DiagnosisResult explain() {
    return run(Operations::explain);
  }

  /**
   * Latency, throughput and error per precision and batch size (issue 20): the {@code perf} table.
   * Every row is built, run once against the reference for its errors and timed on the candidate's
   * backend (or {@link PerfOptions#backend()}). On ONNX Runtime the times are CPU emulation times
   * ({@link PerfResult#fp16Speed()} false).
   */
  public PerfResult perf(PerfOptions options) {
    Preconditions.checkNotNull(options, "perf options");
    return run(op -> new PerfRun(graph, op.settings(), op.inputs()).run(options));
  }

  /** {@link #perf(PerfOptions)} with {@link PerfOptions#defaults()}. */
  public PerfResult perf() {
    return perf(PerfOptions.defaults());
  }

  /** Node names of the model in topological order (unnamed nodes as named on load). */
  public List<String> nodeNames() {
    return graph.nodes().stream().map(Onnx.NodeProto::getName).collect(Collectors.toList());
  }

  /** The model's display name. */
  public String modelName() {
    return graph.name();
  }

  /** The reference backend this instance will use (the default resolved if none was set). */
  public String referenceSpec() {
    return resolved().reference().toString();
  }

  /** The candidate backend this instance will use (the default resolved if none was set). */
  public String candidateSpec() {
    return resolved().candidate().toString();
  }

  public Tolerance tolerance() {
    return settings.tolerance();
  }

  public PrecisionPlan plan() {
    return settings.plan();
  }

  private <R> R run(java.util.function.Function<Operations, R> op) {
    AnalysisSettings s = resolved();
    InputPlan.Prepared inputs = InputPlan.prepare(graph, s);
    try (Operations ops = new Operations(graph, s, inputs)) {
      return op.apply(ops);
    } catch (HalfBisectException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          "analysis of " + graph.name() + " failed: " + e.getMessage(),
          e);
    } finally {
      s.listener().finished();
    }
  }

  /** The settings with both backends set: the defaults where none was chosen. */
  private AnalysisSettings resolved() {
    if (settings.reference() != null && settings.candidate() != null) {
      return settings;
    }
    Backend t = Backends.all().get("trt");
    boolean trt = t != null && t.availability().available();
    BackendSpec ref =
        settings.reference() != null
            ? settings.reference()
            : BackendSpec.parse(trt ? "trt:fp32" : "ort:fp32");
    BackendSpec cand =
        settings.candidate() != null
            ? settings.candidate()
            : BackendSpec.parse(trt ? "trt:fp16" : "ort:fp16-emulated");
    for (BackendSpec s : new BackendSpec[] {ref, cand}) {
      if (!Backends.all().containsKey(s.backend())) {
        throw new HalfBisectException(
            HalfBisectException.Kind.BACKEND,
            "default backend "
                + s
                + " is not on the class path; available backends: "
                + (Backends.all().isEmpty() ? "none" : String.join(", ", Backends.all().keySet()))
                + ". Add the dependency "
                + artifactOf(s.backend())
                + " (or use dev.halfbisect:halfbisect, which includes the ONNX Runtime backend),"
                + " or choose with reference(...)/candidate(...) or --reference/--candidate");
      }
    }
    return settings.with(
        b -> {
          b.reference = ref;
          b.candidate = cand;
        });
  }

  /** The Maven coordinates that bring backend {@code name} (issue 17: say what to add). */
  static String artifactOf(String name) {
    return switch (name) {
      case "ort" -> "dev.halfbisect:halfbisect-onnxruntime";
      case "trt" -> "dev.halfbisect:halfbisect-tensorrt";
      default -> "providing backend '" + name + "'";
    };
  }

  private static BackendSpec checkBackend(String spec, String role) {
    Preconditions.checkNotNull(spec, role);
    try {
      BackendSpec s = BackendSpec.parse(spec);
      Backends.resolve(s);
      return s;
    } catch (IllegalArgumentException e) {
      String hint = "";
      try {
        BackendSpec s = BackendSpec.parse(spec);
        if (!Backends.all().containsKey(s.backend())) {
          hint = " (add the dependency " + artifactOf(s.backend()) + ")";
        }
      } catch (IllegalArgumentException malformed) {
        hint = "";
      }
      throw HalfBisectException.usage(role + " " + e.getMessage() + hint);
    }
  }

  private static String stem(Path p) {
    String n = p.getFileName().toString();
    return n.substring(0, n.length() - ".npy".length());
  }

  /** The same model with new input settings, checked against the model's inputs. */
  private HalfBisect validated(Consumer<AnalysisSettings.Builder> change) {
    HalfBisect hb = with(change);
    InputPlan.check(graph, hb.settings);
    return hb;
  }
}
