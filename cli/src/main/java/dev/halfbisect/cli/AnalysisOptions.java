package dev.halfbisect.cli;

import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.api.ObservationLimits;
import dev.halfbisect.core.verdict.CheckMode;
import dev.halfbisect.core.verdict.Tolerance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Options shared by the analysing subcommands (the backends and progress of {@link RunOptions}
 * included); {@link #configure} turns them into a {@link HalfBisect}.
 */
final class AnalysisOptions extends RunOptions {
  @Parameters(index = "0", paramLabel = "MODEL", description = "the ONNX model file")
  Path model;

  @Option(
      names = "--input",
      paramLabel = "NAME:SHAPE:DTYPE:FILL",
      description =
          "an input, e.g. input_ids:1x128:int64:1000..21000 (repeatable); inputs not given are derived "
              + "from the model")
  List<String> inputs = new ArrayList<>();

  @Option(
      names = "--load-inputs",
      paramLabel = "PATH",
      split = ",",
      description =
          "input samples: .npz (numpy.savez, one sample), .npy (one input named by its stem), .json "
              + "(polygraphy run --save-inputs, a list of samples) or a folder of them (name order); "
              + "repeatable or comma-separated; several samples set the sample count")
  List<Path> loadInputs = new ArrayList<>();

  // issue 15: sample sets, real text, holdout, headroom
  @Option(
      names = "--sample-axis",
      description =
          "with --load-inputs: every array's leading axis counts samples and is split (kept as size 1"
              + " when the model input has the array's rank, dropped when it has one dim less)")
  boolean sampleAxis;

  @Option(
      names = "--text",
      paramLabel = "FILE",
      description =
          "real text input: one line a sample, tokenized with --tokenizer and padded/truncated to the"
              + " model's sequence length; fills the *ids*, *mask* and *type* inputs")
  Path text;

  @Option(
      names = "--tokenizer",
      paramLabel = "tokenizer.json",
      description = "HuggingFace tokenizer.json for --text (tokenized offline by DJL)")
  Path tokenizer;

  @Option(
      names = "--holdout",
      paramLabel = "K",
      description =
          "precision: samples kept back to validate the plan (default: a quarter, at least 1, with 4"
              + " or more samples; 0: none)")
  Integer holdout;

  @Option(
      names = "--headroom",
      paramLabel = "SHARE",
      description =
          "tensors whose reference magnitude reaches SHARE of 65504 are listed at risk (default 0.5)")
  Double headroom;

  @Option(
      names = "--samples",
      paramLabel = "N",
      defaultValue = "1",
      description = "input samples (default 1)")
  int samples;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "0",
      description = "seed of generated inputs")
  long seed;

  // issue 17: per-tensor bounds as Polygraphy writes them, NAME:V (repeatable) besides plain V
  @Option(
      names = "--atol",
      paramLabel = "[NAME:]A",
      description =
          "absolute tolerance (Polygraphy-style check); NAME:A for one tensor only, e.g. --atol"
              + " logits:1e-3 (repeatable)")
  List<String> atol = new ArrayList<>();

  @Option(
      names = "--rtol",
      paramLabel = "[NAME:]R",
      description = "relative tolerance (Polygraphy-style check); NAME:R for one tensor only")
  List<String> rtol = new ArrayList<>();

  @Option(
      names = "--check",
      paramLabel = "STAT",
      description = "what atol/rtol bound: elementwise (default), mean, median, max, quantile:Q")
  String check;

  @Option(
      names = "--max-error",
      paramLabel = "E",
      description = "normalized error bound of the default check (default 1e-2)")
  Double maxError;

  @Option(
      names = "--max-builds",
      paramLabel = "N",
      description =
          "cap on the candidate builds of the precision search in precision and diagnose (default"
              + " 60); with TensorRT each build takes seconds; at the cap the best passing plan so far"
              + " is kept and the report says so")
  Integer maxBuilds;

  @Option(
      names = "--max-emulation-builds",
      paramLabel = "N",
      description =
          "precision with emulation first (a TensorRT candidate): cap on the emulation's builds"
              + " (default 400; --max-builds caps the candidate's)")
  Integer maxEmulationBuilds;

  @Option(
      names = "--search-margin",
      paramLabel = "SHARE",
      description =
          "precision: every plan tried must keep its outputs within SHARE of the normalized-error"
              + " bound (default 1); below 1 leaves room for a rebuild, whose TensorRT kernels can"
              + " err more; the verdict uses the whole bound")
  Double searchMargin;

  @Option(
      names = "--observe-mib",
      paramLabel = "MIB",
      description =
          "float32 MiB of observed tensors per build, over all samples (default 128): bounds the memory "
              + "of layerwise and amplify; larger means fewer builds")
  Long observeMib;

  @Option(
      names = "--observe-max",
      paramLabel = "N",
      description =
          "at most N observed tensors per build (default 16384); when a build fails for its size "
              + "(both halves of it build), later builds of the run observe at most a half and "
              + "the report says so")
  Integer observeMax;

  @Option(
      names = "--reference-cache-mib",
      paramLabel = "MIB",
      description =
          "MiB of layerwise reference values kept for the strategies after it (default 256; 0: none)")
  Long referenceCacheMib;

  @Option(
      names = "--allow-overflow",
      description =
          "precision search: do not pin up front the nodes that overflow FP16 on their own (their "
              + "FP16 output is inf or NaN where FP32 is finite); search only for the smallest set that makes the outputs pass")
  boolean allowOverflow;

  // issue 20: the plan's price costs three builds; --no-price skips it
  @Option(
      names = "--no-price",
      description =
          "precision, diagnose: do not time the FP32, all-FP16 and plan engines (the price block)")
  boolean noPrice;

  @Option(
      names = "--plan",
      paramLabel = "PLAN.json",
      description = "precision plan applied to the candidate")
  Path plan;

  // issue 17: golden outputs reused between runs, as Polygraphy's --save-outputs/--load-outputs
  @Option(
      names = "--save-outputs",
      paramLabel = "FILE.npz",
      description =
          "write the reference's graph outputs (with digests of the model and inputs) to FILE.npz")
  Path saveOutputs;

  @Option(
      names = "--load-outputs",
      paramLabel = "FILE.npz",
      description =
          "use the reference outputs saved with --save-outputs instead of running the reference on"
              + " them (same model, inputs and --reference required)")
  Path loadOutputs;

  // issue 18: parallel probes, reference cache, emulation first
  @Option(
      names = "--jobs",
      paramLabel = "K",
      description =
          "candidate probes built at once (default 1): k-ary bisect, parallel ddmin and layerwise "
              + "chunks; with TensorRT the worker processes grow to K in all unless "
              + "-Dhalfbisect.trt.workers is set")
  Integer jobs;

  @Option(
      names = "--no-reference-cache",
      description =
          "do not keep reference values between runs (default: kept under "
              + "-Dhalfbisect.cacheDir, else ~/.cache/halfbisect, in reference/, at most 2 GiB)")
  boolean noReferenceCache;

  @Option(
      names = "--search-on",
      paramLabel = "SIDE",
      description =
          "where precision and bisect search: auto (default: emulation first when the "
              + "candidate is TensorRT, the candidate confirms), emulation, candidate")
  String searchOn;

  @Option(
      names = "--emulation",
      paramLabel = "BACKEND:MODE",
      description =
          "the emulation an emulation-first search runs on (default: the candidate's type and "
              + "typing, MatMuls accumulated in FP16 as TensorRT does: trt:fp16 -> "
              + "ort:fp16-acc16-emulated, trt:fp16-strong -> ort:fp16-strong-acc16-emulated, "
              + "trt:bf16-strong -> ort:bf16-strong-emulated)")
  String emulation;

  @Option(
      names = "--emulation-jobs",
      paramLabel = "N",
      description =
          "emulation probes run at once in an emulation-first search (default: the larger of "
              + "--jobs and min(4, cores / 4); they are CPU sessions and run side by side even "
              + "while TensorRT builds one at a time)")
  Integer emulationJobs;

  // issue 19
  @Option(
      names = "--plan-from",
      paramLabel = "CONVERTED.onnx",
      description =
          "plan read from a model already converted to FP16/BF16 with Casts (ModelOpt AutoCast, "
              + "onnxconverter-common, surgeon fp16): the nodes it keeps in FP32; precision starts "
              + "from them and shrinks the set")
  Path planFrom;

  @Option(names = "--out", paramLabel = "DIR", description = "folder for reports and files")
  Path out;

  @Option(names = "--json", paramLabel = "FILE", description = "write the JSON report to FILE")
  Path json;

  // issue 16: resumable runs
  @Option(
      names = "--fresh",
      description =
          "ignore the probe journals under --out (probes.jsonl, and emulation first's"
              + " emulation-*.jsonl) and build every probe again; without it a run with the same"
              + " model, inputs, backends and tolerance resumes from them")
  boolean fresh;

  /** The journal file of a run writing into {@code out}. */
  static final String JOURNAL = "probes.jsonl";

  HalfBisect configure(java.io.PrintWriter err) {
    if (samples < 1) {
      throw new UsageException("--samples must be at least 1, got " + samples);
    }
    HalfBisect hb = withBackends(HalfBisect.model(model));
    if (sampleAxis && loadInputs.isEmpty()) {
      throw new UsageException("--sample-axis needs --load-inputs");
    }
    if (!loadInputs.isEmpty()) {
      hb = hb.loadInputs(loadInputs, sampleAxis);
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String in : inputs) {
      String name = in.contains(":") ? in.substring(0, in.indexOf(':')) : in;
      if (!seen.add(name)) { // issue 16: the second one would silently win
        throw new UsageException("--input " + name + " is given more than once");
      }
      hb = hb.input(in);
    }
    if ((text == null) != (tokenizer == null)) {
      throw new UsageException(
          text == null
              ? "--tokenizer needs --text FILE"
              : "--text needs --tokenizer tokenizer.json");
    }
    if (text != null) {
      if (!loadInputs.isEmpty()) {
        throw new UsageException("--text and --load-inputs both give the samples: choose one");
      }
      hb = hb.text(text, tokenizer);
    }
    if (holdout != null) {
      if (holdout < 0) {
        throw new UsageException("--holdout must be at least 0, got " + holdout);
      }
      hb = hb.holdout(holdout);
    }
    if (headroom != null) {
      hb = hb.headroom(headroom);
    }
    hb = hb.samples(samples).seed(seed).tolerance(tolerance());
    if (maxBuilds != null) {
      if (maxBuilds < 1) {
        throw new UsageException("--max-builds must be at least 1, got " + maxBuilds);
      }
      hb = hb.maxBuilds(maxBuilds);
    }
    if (maxEmulationBuilds != null) {
      if (maxEmulationBuilds < 1) {
        throw new UsageException(
            "--max-emulation-builds must be at least 1, got " + maxEmulationBuilds);
      }
      hb = hb.maxEmulationBuilds(maxEmulationBuilds);
    }
    if (observeMib != null || observeMax != null || referenceCacheMib != null) {
      ObservationLimits d = ObservationLimits.defaults();
      if (observeMib != null && (observeMib < 1 || observeMib > (Long.MAX_VALUE >> 20))) {
        throw new UsageException(
            "--observe-mib must be between 1 and "
                + (Long.MAX_VALUE >> 20)
                + ", got "
                + observeMib);
      }
      if (observeMax != null && observeMax < 1) {
        throw new UsageException("--observe-max must be at least 1, got " + observeMax);
      }
      if (referenceCacheMib != null
          && (referenceCacheMib < 0 || referenceCacheMib > (Long.MAX_VALUE >> 20))) {
        throw new UsageException(
            "--reference-cache-mib must be between 0 and "
                + (Long.MAX_VALUE >> 20)
                + ", got "
                + referenceCacheMib);
      }
      hb =
          hb.observationLimits(
              new ObservationLimits(
                  observeMib == null ? d.bytesPerBuild() : observeMib << 20,
                  observeMax == null ? d.maxTensorsPerBuild() : observeMax,
                  referenceCacheMib == null ? d.referenceCacheBytes() : referenceCacheMib << 20));
    }
    if (allowOverflow) {
      hb = hb.pinOverflows(false);
    }
    hb = withExecution(hb);
    if (noPrice) {
      hb = hb.price(false);
    }
    if (plan != null) {
      hb = hb.plan(PlanFiles.read(plan));
    }
    if (planFrom != null) {
      if (plan != null) {
        throw new UsageException("give --plan or --plan-from, not both");
      }
      requireFile(planFrom, "--plan-from");
      hb = hb.planFrom(planFrom);
    }
    if (out != null) {
      hb = hb.outDir(out);
      Path journal = out.resolve(JOURNAL); // issue 16: resumable by default under --out
      hb = fresh ? hb.freshJournal(journal) : hb.journal(journal);
    }
    InterruptionNotice.analysing(out == null ? null : out.resolve(JOURNAL));
    if (loadOutputs != null) {
      requireFile(loadOutputs, "--load-outputs");
      hb = hb.loadOutputs(loadOutputs);
    }
    if (saveOutputs != null) {
      hb = hb.saveOutputs(saveOutputs);
    }
    return withProgress(hb, err);
  }

  /** System property naming the folder of halfbisect's caches (the reference cache lives in it). */
  static final String CACHE_DIR = "halfbisect.cacheDir";

  /** --jobs, the reference cache and --search-on (issue 18). */
  private HalfBisect withExecution(HalfBisect hb) {
    if (jobs != null) {
      if (jobs < 1) {
        throw new UsageException("--jobs must be at least 1, got " + jobs);
      }
      hb = hb.parallelism(jobs); // TensorRT starts as many workers (BuildOptions.CONCURRENT_BUILDS)
    }
    if (searchOn != null) {
      try {
        hb = hb.searchOn(dev.halfbisect.api.SearchOn.parse(searchOn));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--search-on: " + e.getMessage());
      }
    }
    if (emulation != null) {
      hb = hb.emulation(emulation);
    }
    if (searchMargin != null) {
      hb = hb.searchMargin(searchMargin);
    }
    if (emulationJobs != null) {
      if (emulationJobs < 1) {
        throw new UsageException("--emulation-jobs must be at least 1, got " + emulationJobs);
      }
      hb = hb.emulationParallelism(emulationJobs);
    }
    return noReferenceCache ? hb.noReferenceCache() : hb.referenceCache(referenceCacheDir());
  }

  /** {@code -Dhalfbisect.cacheDir}/reference, else {@code ~/.cache/halfbisect/reference}. */
  static Path referenceCacheDir() {
    String dir = System.getProperty(CACHE_DIR);
    Path base =
        dir != null && !dir.isBlank()
            ? Path.of(dir)
            : Path.of(System.getProperty("user.home", "."), ".cache", "halfbisect");
    return base.resolve("reference");
  }

  /**
   * The default normalized-error check, or a Polygraphy-style one when a plain --atol/--rtol is
   * given; {@code NAME:V} values check tensor NAME elementwise with its own bounds (the others keep
   * the global check).
   */
  Tolerance tolerance() {
    TensorBounds a = TensorBounds.parse(atol, "--atol");
    TensorBounds r = TensorBounds.parse(rtol, "--rtol");
    Double globalAtol = a.global();
    Double globalRtol = r.global();
    Tolerance base = globalTolerance(globalAtol, globalRtol);
    CheckMode perTensorMode =
        base.mode().kind() == CheckMode.Kind.NORMALIZED ? CheckMode.ELEMENTWISE : base.mode();
    java.util.Set<String> names = new java.util.LinkedHashSet<>(a.byTensor().keySet());
    names.addAll(r.byTensor().keySet());
    for (String name : names) {
      double ta = a.byTensor().getOrDefault(name, globalAtol == null ? 1e-5 : globalAtol);
      double tr = r.byTensor().getOrDefault(name, globalRtol == null ? 1e-5 : globalRtol);
      base = base.withOverride(name, Tolerance.of(perTensorMode, ta, tr));
    }
    return base;
  }

  private Tolerance globalTolerance(Double atol, Double rtol) {
    if (atol == null && rtol == null) {
      if (check != null) {
        throw new UsageException("--check " + check + " needs --atol and/or --rtol");
      }
      return maxError != null ? Tolerance.normalized(maxError) : Tolerance.fp16Default();
    }
    CheckMode mode;
    try {
      mode = check == null ? CheckMode.ELEMENTWISE : CheckMode.parse(check);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--check: " + e.getMessage());
    }
    if (mode.kind() == CheckMode.Kind.NORMALIZED) {
      throw new UsageException("--check normalized takes --max-error, not --atol/--rtol");
    }
    // Unset bounds take Polygraphy's 1e-5, as core's Tolerance.parse does.
    return Tolerance.of(mode, atol == null ? 1e-5 : atol, rtol == null ? 1e-5 : rtol);
  }

  /** The files this run reads (never to be written over): model, its external data, inputs. */
  List<Path> inputFiles(HalfBisect hb) {
    List<Path> r = new ArrayList<>(List.of(model));
    r.addAll(hb.externalDataFiles());
    for (Path p : loadInputs) {
      if (Files.isDirectory(p)) {
        try (var files = Files.list(p)) {
          files.filter(Files::isRegularFile).forEach(r::add);
        } catch (java.io.IOException e) {
          throw new UsageException(
              "--load-inputs " + p + ": cannot list the folder: " + e.getMessage());
        }
      } else {
        r.add(p);
      }
    }
    if (plan != null) {
      r.add(plan);
    }
    if (planFrom != null) {
      r.add(planFrom);
    }
    if (loadOutputs != null) {
      r.add(loadOutputs);
    }
    return r;
  }

  static void requireFile(Path p, String option) {
    if (Files.isDirectory(p)) {
      throw new UsageException(option + " " + p + " is a directory, expected a file");
    }
    if (!Files.isRegularFile(p)) {
      throw new UsageException(option + " " + p + ": file not found");
    }
  }
}
