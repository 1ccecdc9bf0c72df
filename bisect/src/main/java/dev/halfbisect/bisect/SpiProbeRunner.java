package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.onnx.proto.Onnx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The real {@link ProbeRunner}: makes the probe's graph with {@link ProbeGraphs} and builds it with
 * the reference or candidate {@link Backend} through the SPI. Never names a concrete backend.
 */
public final class SpiProbeRunner implements ProbeRunner {
  private final ModelGraph graph;
  private final Backend reference;
  private final BuildOptions referenceOptions;
  private final Backend candidate;
  private final BuildOptions candidateOptions;
  private byte[] fullBytes;

  public SpiProbeRunner(
      ModelGraph graph,
      Backend reference,
      BuildOptions referenceOptions,
      Backend candidate,
      BuildOptions candidateOptions) {
    this.graph = Preconditions.checkNotNull(graph, "graph");
    this.reference = Preconditions.checkNotNull(reference, "reference");
    this.referenceOptions = Preconditions.checkNotNull(referenceOptions, "referenceOptions");
    this.candidate = Preconditions.checkNotNull(candidate, "candidate");
    this.candidateOptions = Preconditions.checkNotNull(candidateOptions, "candidateOptions");
  }

  @Override
  public Outcome run(ProbeSpec spec, List<Map<String, Tensor>> feeds) throws BackendException {
    Onnx.ModelProto model;
    List<String> observed = new ArrayList<>(spec.observed());
    Map<String, String> rename = new HashMap<>();
    switch (spec.kind()) {
      case FULL:
        model = null;
        break;
      case PREFIX:
        model =
            ProbeGraphs.prefix(
                graph, spec.observed().get(0), spec.observed().subList(1, spec.observed().size()));
        observed = List.of();
        break;
      case SHADOW:
        model = ProbeGraphs.shadow(graph, spec.nodes());
        observed = List.of();
        for (String o : spec.observed()) {
          rename.put(o, o + ProbeGraphs.SHADOW_SUFFIX);
        }
        break;
      case SUBGRAPH:
        model =
            ProbeGraphs.subgraph(
                graph,
                spec.nodes().stream().map(graph::topoPosition).toList(),
                spec.cutInputs(),
                spec.observed(),
                cutShapes(spec.cutInputs(), feeds));
        observed = List.of();
        break;
      default:
        throw new IllegalStateException("unknown probe kind " + spec.kind());
    }
    ModelRef ref =
        model == null
            ? fullModel()
            : ModelRef.ofBytes(
                graph.name() + "#" + spec.kind().name().toLowerCase(java.util.Locale.ROOT),
                model.toByteArray(),
                graph.baseDir().orElse(null));
    boolean cand = spec.side() == ProbeSpec.Side.CANDIDATE;
    BuildOptions base = cand ? candidateOptions : referenceOptions;
    // In FULL probes graph outputs come back anyway; observing them twice would confuse some
    // backends.
    List<String> extra = observed.stream().filter(o -> !graph.graphOutputs().contains(o)).toList();
    BuildOptions options = base.withObserved(extra);
    if (spec.kind() == ProbeSpec.Kind.SHADOW) {
      options = options.withPlan(ProbeGraphs.shadowPlan(graph));
    } else if (cand) {
      options = options.withPlan(spec.plan());
    }
    Backend backend = cand ? candidate : reference;
    long t0 = System.nanoTime();
    try (BackendSession session = backend.open(ref, options)) {
      Duration build = Duration.ofNanos(System.nanoTime() - t0);
      Duration runTime = Duration.ZERO;
      ImmutableList.Builder<ImmutableMap<String, Tensor>> samples = ImmutableList.builder();
      for (Map<String, Tensor> feed : feeds) {
        Map<String, Tensor> in = new HashMap<>();
        for (TensorInfo info : session.inputs()) {
          Tensor t = feed.get(info.name());
          if (t == null) {
            throw new IllegalArgumentException(
                "probe "
                    + spec.describe()
                    + " needs input '"
                    + info.name()
                    + "' but the sample has only "
                    + feed.keySet());
          }
          in.put(info.name(), t);
        }
        RunResult r = session.run(in);
        runTime = runTime.plus(r.runTime());
        ImmutableMap.Builder<String, Tensor> values = ImmutableMap.builder();
        for (String o : spec.observed()) {
          values.put(o, r.get(rename.getOrDefault(o, o)));
        }
        samples.add(values.buildKeepingLast());
      }
      return new Outcome(samples.build(), build, runTime);
    }
  }

  /** Shapes of the cut inputs in the feeds, -1 where samples differ. */
  static Map<String, long[]> cutShapes(List<String> cuts, List<Map<String, Tensor>> feeds) {
    Map<String, long[]> shapes = new HashMap<>();
    for (String c : cuts) {
      long[] shape = null;
      for (Map<String, Tensor> f : feeds) {
        Tensor t = f.get(c);
        if (t == null) {
          shape = null;
          break;
        }
        if (shape == null) {
          shape = t.shape();
        } else if (shape.length != t.rank()) {
          shape = null;
          break;
        } else {
          for (int i = 0; i < shape.length; i++) {
            if (shape[i] != t.dim(i)) {
              shape[i] = -1;
            }
          }
        }
      }
      if (shape != null) {
        shapes.put(c, shape);
      }
    }
    return shapes;
  }

  private synchronized ModelRef fullModel() {
    if (fullBytes == null) {
      fullBytes = graph.proto().toByteArray();
    }
    return ModelRef.ofBytes(graph.name(), fullBytes, graph.baseDir().orElse(null));
  }
}
