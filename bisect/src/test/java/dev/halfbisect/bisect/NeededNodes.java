package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A test candidate that passes exactly when a given set of nodes is pinned, for shrink tests. */
final class NeededNodes {
  private NeededNodes() {}

  /**
   * A candidate that computes in FP32 and passes exactly when every node of {@code needed} is
   * pinned; otherwise its outputs come back doubled.
   */
  static BisectContext context(
      ModelGraph g, List<Map<String, Tensor>> samples, int k, Set<String> needed) {
    InterpreterBackend interp = new InterpreterBackend();
    SpiProbeRunner exact =
        new SpiProbeRunner(
            g, new ProbeBackends(interp, BuildOptions.of("fp32"), interp, BuildOptions.of("fp32")));
    ProbeRunner runner =
        (spec, feeds) -> {
          ProbeRunner.Outcome o = exact.run(spec, feeds);
          if (spec.side() != ProbeSpec.Side.CANDIDATE
              || spec.plan().fp32Nodes().containsAll(needed)) {
            return o;
          }
          List<ImmutableMap<String, Tensor>> doubledSamples = new ArrayList<>();
          for (ImmutableMap<String, Tensor> m : o.samples()) {
            Map<String, Tensor> d = new LinkedHashMap<>();
            m.forEach((name, t) -> d.put(name, doubled(t)));
            doubledSamples.add(ImmutableMap.copyOf(d));
          }
          return new ProbeRunner.Outcome(
              ImmutableList.copyOf(doubledSamples), o.buildTime(), o.runTime());
        };
    return TestModels.context(g, interp, samples).runner(runner).parallelism(k).build();
  }

  private static Tensor doubled(Tensor t) {
    float[] v = t.toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] = 2 * v[i] + 1;
    }
    return Tensor.ofFloats(t.shape(), v);
  }
}
