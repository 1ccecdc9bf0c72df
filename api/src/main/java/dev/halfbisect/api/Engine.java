package dev.halfbisect.api;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.BackendUnavailableException;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.core.verdict.Verdict;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs probes for one facade operation: a probe builds a model (the user's or a derived one) in a
 * backend and mode, runs every input sample and closes the session before returning, so no native
 * resource outlives the call. Counts candidate builds for the report and feeds the progress listener.
 */
final class Engine {
  final ModelGraph graph;
  final BackendSpec reference;
  final BackendSpec candidate;
  final PrecisionPlan plan;
  final Tolerance tolerance;
  final List<Map<String, Tensor>> samples;
  final ProgressListener listener;
  final List<String> notes;
  private int candidateBuilds;
  private int steps;
  private List<Map<String, Tensor>> referenceAll;

  Engine(ModelGraph graph, BackendSpec reference, BackendSpec candidate, PrecisionPlan plan, Tolerance tolerance,
      List<Map<String, Tensor>> samples, ProgressListener listener, List<String> notes) {
    this.graph = graph;
    this.reference = reference;
    this.candidate = candidate;
    this.plan = plan;
    this.tolerance = tolerance;
    this.samples = samples;
    this.listener = listener;
    this.notes = notes;
  }

  int candidateBuilds() {
    return candidateBuilds;
  }

  void phase(String name, int total) {
    steps = 0;
    listener.phase(name, total);
  }

  /** Runs the reference (FP32 plan) on the user's model observing {@code observed}. */
  List<Map<String, Tensor>> runReference(Collection<String> observed) {
    return probe(reference, graph.toModelRef(), PrecisionPlan.allFp32(), observed, samples, "reference");
  }

  /** Runs the candidate under {@code p} on the user's model observing {@code observed}. */
  List<Map<String, Tensor>> runCandidate(PrecisionPlan p, Collection<String> observed) {
    return probe(candidate, graph.toModelRef(), p, observed, samples, "candidate");
  }

  /** The reference observing every node output (cached: one build per operation). */
  List<Map<String, Tensor>> referenceAll() {
    if (referenceAll == null) {
      referenceAll = runReference(graph.intermediateTensors());
    }
    return referenceAll;
  }

  /** Node outputs in topological order whose reference values are floating point. */
  List<String> floatTensors() {
    Map<String, Tensor> first = referenceAll().get(0);
    List<String> r = new ArrayList<>();
    for (String t : graph.allNodeOutputs()) {
      Tensor v = first.get(t);
      if (v != null && v.dtype().isFloatingPoint()) {
        r.add(t);
      }
    }
    return r;
  }

  /** Names of nodes with at least one floating-point output: what FP16 can change. */
  Set<String> floatNodes() {
    Set<String> floats = new HashSet<>(floatTensors());
    Set<String> r = new java.util.LinkedHashSet<>();
    for (Onnx.NodeProto n : graph.nodes()) {
      if (n.getOutputList().stream().anyMatch(floats::contains)) {
        r.add(n.getName());
      }
    }
    return r;
  }

  List<Map<String, Tensor>> probe(BackendSpec spec, ModelRef model, PrecisionPlan p, Collection<String> observed,
      List<Map<String, Tensor>> inputs, String role) {
    Backend backend;
    try {
      backend = Backends.resolve(spec);
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage(role + " " + spec + ": " + e.getMessage());
    }
    BuildOptions options = BuildOptions.of(spec.mode(), p).withObserved(observed);
    List<Map<String, Tensor>> out = new ArrayList<>();
    try (BackendSession s = backend.open(model, options)) {
      if (role.startsWith("candidate")) {
        candidateBuilds++;
      }
      for (Map<String, Tensor> sample : inputs) {
        RunResult r = s.run(sample);
        out.add(new LinkedHashMap<>(r.outputs()));
      }
    } catch (BackendUnavailableException e) {
      throw new HalfBisectException(HalfBisectException.Kind.BACKEND, "backend " + spec + " is not available: "
          + e.getMessage(), e);
    } catch (BackendException e) {
      throw new HalfBisectException(HalfBisectException.Kind.BACKEND, spec + " failed on " + model.name() + ": "
          + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage(spec + " rejected the inputs of " + model.name() + ": " + e.getMessage());
    } catch (HalfBisectException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new HalfBisectException(HalfBisectException.Kind.BACKEND, spec + " failed on " + model.name() + ": " + e, e);
    }
    listener.step(++steps, role + " " + spec + (observed.isEmpty() ? "" : " observing " + observed.size() + " tensor(s)"));
    return out;
  }

  /** Compares {@code names} between two runs (worst sample per tensor), in the order given. */
  List<TensorError> compare(List<Map<String, Tensor>> ref, List<Map<String, Tensor>> cand, List<String> names) {
    List<TensorError> r = new ArrayList<>();
    for (String name : names) {
      r.add(compareOne(ref, cand, name));
    }
    return r;
  }

  TensorError compareOne(List<Map<String, Tensor>> ref, List<Map<String, Tensor>> cand, String name) {
    TensorError.Stats worst = null;
    String failure = null;
    for (int s = 0; s < ref.size(); s++) {
      Tensor rt = ref.get(s).get(name);
      Tensor ct = cand.get(s).get(name);
      if (rt == null || ct == null) {
        throw new HalfBisectException(HalfBisectException.Kind.BACKEND, "tensor '" + name + "' missing from the "
            + (rt == null ? "reference" : "candidate") + " run");
      }
      if (rt.size() != ct.size()) {
        throw new HalfBisectException(HalfBisectException.Kind.BACKEND, "tensor '" + name + "' has shape ["
            + Tensor.shapeToString(rt.shape()) + "] in the reference but [" + Tensor.shapeToString(ct.shape())
            + "] in the candidate");
      }
      float[] rv = rt.toFloatArray();
      float[] cv = ct.toFloatArray();
      TensorError.Stats st = TensorError.Stats.of(rv, cv);
      worst = worst == null ? st : worst.worst(st);
      Verdict v = tolerance.check(name, ErrorMetrics.compare(rv, cv), rv, cv);
      String f = v.pass() ? null : v.reason();
      if (failure == null && f != null) {
        failure = samples.size() > 1 ? f + " (sample " + s + ")" : f;
      }
    }
    Onnx.NodeProto p = graph.producer(name).orElse(null);
    return new TensorError(name, p == null ? "" : p.getName(), p == null ? "Input" : p.getOpType(), worst, failure);
  }
}
