package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.Timing;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.PerfReport;
import dev.halfbisect.report.model.PerfRow;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Issue 20: the {@code perf} table. Per shape set (the inputs' own shapes without {@link
 * PerfOptions#shapes()}) and batch size: one reference run for the errors (reused from the fp32 row
 * when the reference is the same backend and mode), then per precision one build, one run for the
 * errors and one timing. A precision the backend has no mode for is listed as skipped.
 */
final class PerfRun {
  private final ModelGraph graph;
  private final AnalysisSettings settings;
  private final InputPlan.Prepared inputs;
  private final Latency latency;
  private int builds;

  PerfRun(ModelGraph graph, AnalysisSettings settings, InputPlan.Prepared inputs) {
    this.graph = graph;
    this.settings = settings;
    this.inputs = inputs;
    this.latency = new Latency(graph);
  }

  PerfResult run(PerfOptions o) {
    Backend backend = backend(o);
    BackendSpec reference = settings.reference();
    Backend refBackend = Operations.resolve(reference, "reference");
    List<String> precisions = new ArrayList<>(o.precisions());
    precisions.removeIf(p -> p.equalsIgnoreCase("fp32"));
    precisions.add(0, "fp32");
    Map<String, PrecisionPlan> plans = plans(precisions);
    List<InputPlan.Prepared> shapeSets = shapeSets(o.shapes());
    Set<String> notes = new LinkedHashSet<>();
    List<String> floatOutputs =
        graph.graphOutputs().stream().filter(graph::isFloat).collect(Collectors.toList());
    if (floatOutputs.isEmpty()) {
      throw HalfBisectException.usage(graph.name() + " has no float graph output to compare");
    }
    int batchesPerSet = o.batches().isEmpty() ? 1 : o.batches().size();
    settings.listener().phase("perf", shapeSets.size() * batchesPerSet * precisions.size());
    int step = 0;
    List<PerfRow> rows = new ArrayList<>();
    Timing.Clock clock = null;
    boolean pass = true;
    for (InputPlan.Prepared shapeSet : shapeSets) {
      Map<String, Tensor> sample = shapeSet.samples().get(0);
      notes.addAll(shapeSet.notes());
      List<Integer> batches =
          o.batches().isEmpty() ? List.of(Batching.batchOf(sample)) : o.batches();
      for (int batch : batches) {
        Map<String, Tensor> feeds = Batching.batched(graph, sample, batch);
        Map<String, String> shapes = shapes(feeds);
        RunResult ref = null;
        List<PerfRow> batchRows = new ArrayList<>();
        for (String p : precisions) {
          Optional<String> mode = mode(backend, p);
          if (mode.isEmpty()) {
            batchRows.add(
                PerfRow.skipped(
                    p,
                    batch,
                    shapes,
                    "backend "
                        + backend.name()
                        + " has no "
                        + p
                        + " mode (modes: "
                        + String.join(", ", backend.modes())
                        + ")"));
            settings.listener().step(++step, p + " skipped");
            continue;
          }
          Latency.Measured m =
              latency.measure(backend, mode.get(), plans.get(p), feeds, o.timing());
          builds++;
          if (ref == null) {
            boolean sameAsReference =
                reference.backend().equals(backend.name()) && reference.mode().equals(mode.get());
            ref =
                sameAsReference
                    ? m.outputs()
                    : latency
                        .measure(refBackend, reference.mode(), PrecisionPlan.allFp32(), feeds, null)
                        .outputs();
          }
          ErrorStats e = Latency.pooledErrors(floatOutputs, ref, m.outputs());
          boolean rowPass = Latency.passes(floatOutputs, settings.tolerance(), ref, m.outputs());
          pass &= rowPass;
          Timing t = m.timing();
          clock = clock == null ? t.clock() : clock;
          batchRows.add(
              new PerfRow(
                  p,
                  backend.name() + ":" + mode.get(),
                  batch,
                  shapes,
                  t.medianMillis(),
                  t.p90Millis(),
                  t.throughput(batch),
                  null,
                  e.maxAbs(),
                  e.medianAbs(),
                  e.meanAbs(),
                  e.maxRel(),
                  e.medianRel(),
                  e.meanRel(),
                  rowPass ? "pass" : "fail",
                  null));
          settings.listener().step(++step, p + " batch " + batch);
        }
        double fp32 = batchRows.get(0).latencyMs();
        batchRows.forEach(r -> rows.add(r.measured() ? r.withSpeedup(fp32) : r));
      }
    }
    PerfReport report =
        new PerfReport(
            AnalysisReport.SCHEMA,
            "perf",
            graph.name(),
            BackendPair.of(reference.toString(), backend.name()),
            pass ? "pass" : "fail",
            builds,
            clock.description(),
            clock.measuresFp16Speed(),
            o.timing().warmup(),
            o.timing().runs(),
            rows,
            notes.isEmpty() ? null : ImmutableList.copyOf(notes));
    return new PerfResult(report);
  }

  /**
   * The inputs of each shape set (its first sample is timed), every set checked against the model
   * before any is drawn; without shape sets the run's own inputs.
   */
  private List<InputPlan.Prepared> shapeSets(List<ShapeSet> shapes) {
    if (shapes.isEmpty()) {
      return List.of(inputs);
    }
    shapes.forEach(set -> ShapeCheck.check(graph, set));
    return shapes.stream().map(set -> InputPlan.prepare(graph, settings, set)).toList();
  }

  private Backend backend(PerfOptions o) {
    String name = o.backend() != null ? o.backend() : settings.candidate().backend();
    Backend b = Backends.all().get(name);
    if (b == null) {
      throw HalfBisectException.usage(
          "unknown backend '"
              + name
              + "'; available: "
              + String.join(", ", Backends.all().keySet()));
    }
    return Operations.resolve(BackendSpec.parse(name + ":" + b.referenceMode()), "perf");
  }

  /**
   * The backend mode of a precision: fp32 the reference mode, plan:FILE the candidate mode, else
   * the first of {@code p}, {@code p-emulated}, {@code p-strong} the backend has.
   */
  static Optional<String> mode(Backend b, String precision) {
    String p = precision.toLowerCase(Locale.ROOT);
    if (p.equals("fp32")) {
      return Optional.of(b.referenceMode());
    }
    if (p.startsWith("plan:")) {
      return Optional.of(b.candidateMode());
    }
    for (String m : List.of(p, p + "-emulated", p + "-strong")) {
      if (b.modes().contains(m)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** The plan of each precision: FP32 for fp32, the file's for plan:FILE, all-FP16 else. */
  private Map<String, PrecisionPlan> plans(List<String> precisions) {
    Map<String, PrecisionPlan> m = new LinkedHashMap<>();
    for (String p : precisions) {
      if (p.equalsIgnoreCase("fp32")) {
        m.put(p, PrecisionPlan.allFp32());
      } else if (p.toLowerCase(Locale.ROOT).startsWith("plan:")) {
        Path file = Path.of(p.substring(5));
        PrecisionPlan plan;
        try {
          plan = PrecisionPlan.read(file);
        } catch (IOException | IllegalArgumentException e) {
          throw HalfBisectException.usage("cannot read plan " + file + ": " + e.getMessage());
        }
        List<String> unknown =
            plan.fp32Nodes().stream().filter(n -> !graph.hasNode(n)).collect(Collectors.toList());
        if (!unknown.isEmpty()) {
          throw HalfBisectException.usage(
              "plan "
                  + file
                  + " names node(s) "
                  + graph.name()
                  + " does not have: "
                  + String.join(", ", unknown.subList(0, Math.min(5, unknown.size()))));
        }
        m.put(p, plan);
      } else {
        m.put(p, PrecisionPlan.allFp16());
      }
    }
    return m;
  }

  private static Map<String, String> shapes(Map<String, Tensor> feeds) {
    Map<String, String> s = new LinkedHashMap<>();
    feeds.forEach((k, v) -> s.put(k, Tensor.shapeToString(v.shape())));
    return s;
  }
}
