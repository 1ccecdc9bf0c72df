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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The real {@link ProbeRunner}: makes the probe's graph with {@link ProbeGraphs} and builds it with
 * the reference or candidate {@link Backend} through the SPI. Never names a concrete backend.
 */
public final class SpiProbeRunner implements ProbeRunner {
  private final ModelGraph graph;
  private final ProbeBackends backends;
  // soft: kept between probes (serializing a large model costs time), given up before memory
  // runs out (amplify's shadow probe holds several copies of the model at once)
  private java.lang.ref.SoftReference<byte[]> fullBytes = new java.lang.ref.SoftReference<>(null);

  public SpiProbeRunner(ModelGraph graph, ProbeBackends backends) {
    this.graph = Preconditions.checkNotNull(graph, "graph");
    this.backends = Preconditions.checkNotNull(backends, "backends");
  }

  @Override
  public Outcome run(ProbeSpec spec, List<Map<String, Tensor>> feeds) throws BackendException {
    ModelRef model = modelOf(spec, feeds);
    BuildOptions options = optionsOf(spec);
    long t0 = System.nanoTime();
    try (BackendSession session = backends.backend(spec.side()).open(model, options)) {
      Duration build = Duration.ofNanos(System.nanoTime() - t0);
      return runSamples(session, spec, feeds, build);
    }
  }

  /** The graph the probe builds: the whole model, or one cut or extended by {@link ProbeGraphs}. */
  private ModelRef modelOf(ProbeSpec spec, List<Map<String, Tensor>> feeds) {
    Onnx.ModelProto model =
        switch (spec.kind()) {
          case FULL -> null;
          case PREFIX ->
              ProbeGraphs.prefix(
                  graph,
                  spec.observed().get(0),
                  spec.observed().subList(1, spec.observed().size()));
          case SHADOW -> ProbeGraphs.shadow(graph, spec.nodes());
          case SUBGRAPH ->
              ProbeGraphs.subgraph(
                  graph,
                  spec.nodes().stream().map(graph::topoPosition).toList(),
                  spec.cutInputs(),
                  spec.observed(),
                  cutShapes(spec.cutInputs(), feeds));
        };
    if (model == null) {
      return fullModel();
    }
    return ModelRef.ofBytes(
        graph.name() + "#" + spec.kind().name().toLowerCase(Locale.ROOT),
        model.toByteArray(),
        graph.baseDir().orElse(null));
  }

  /**
   * The side's build options with the probe's plan (the shadow's own plan for a shadow probe) and,
   * for a full probe, its observed tensors as extra outputs (the other kinds make them graph
   * outputs).
   */
  private BuildOptions optionsOf(ProbeSpec spec) {
    // Graph outputs come back anyway; observing them twice would confuse some backends.
    List<String> extra =
        spec.kind() != ProbeSpec.Kind.FULL
            ? List.of()
            : spec.observed().stream().filter(o -> !graph.graphOutputs().contains(o)).toList();
    BuildOptions options = backends.options(spec.side()).withObserved(extra);
    if (spec.kind() == ProbeSpec.Kind.SHADOW) {
      return options.withPlan(ProbeGraphs.shadowPlan(graph));
    }
    return spec.side() == ProbeSpec.Side.CANDIDATE ? options.withPlan(spec.plan()) : options;
  }

  /** Runs every feed and picks the observed values, named as in the original graph. */
  private static Outcome runSamples(
      BackendSession session, ProbeSpec spec, List<Map<String, Tensor>> feeds, Duration build)
      throws BackendException {
    Duration runTime = Duration.ZERO;
    ImmutableList.Builder<ImmutableMap<String, Tensor>> samples = ImmutableList.builder();
    for (Map<String, Tensor> feed : feeds) {
      RunResult r = session.run(inputs(session, spec, feed));
      runTime = runTime.plus(r.runTime());
      ImmutableMap.Builder<String, Tensor> values = ImmutableMap.builder();
      for (String o : spec.observed()) {
        // A shadow probe observes the copies' outputs under the original names.
        values.put(
            o, r.get(spec.kind() == ProbeSpec.Kind.SHADOW ? o + ProbeGraphs.SHADOW_SUFFIX : o));
      }
      samples.add(values.buildKeepingLast());
    }
    // after the runs: a backend with dynamic shapes builds on the first run
    return new Outcome(samples.build(), build, runTime, session.buildStats().warnings());
  }

  /** The session's inputs taken from one feed. */
  private static Map<String, Tensor> inputs(
      BackendSession session, ProbeSpec spec, Map<String, Tensor> feed) {
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
    return in;
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
    byte[] bytes = fullBytes.get();
    if (bytes == null) {
      bytes = graph.proto().toByteArray();
      fullBytes = new java.lang.ref.SoftReference<>(bytes);
    }
    return ModelRef.ofBytes(graph.name(), bytes, graph.baseDir().orElse(null));
  }
}
