package dev.halfbisect.bisect.testing;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.ProbeBackends;
import dev.halfbisect.bisect.ProbeRunner;
import dev.halfbisect.bisect.ProbeSpec;
import dev.halfbisect.bisect.SpiProbeRunner;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A candidate whose every observed value errs {@code gain} times {@code backend}'s FP16 emulation:
 * reference + gain (emulated - reference), as a TensorRT engine whose kernels round more coarsely
 * than the emulation (emulation first's calibrated retry, issue 18).
 */
public final class ErrorGain {
  private ErrorGain() {}

  /**
   * The runner of such a candidate on {@code g}, {@code backend}'s {@code fp16-emulated} scaled.
   */
  public static ProbeRunner runner(ModelGraph g, Backend backend, float gain) {
    return runner(g, backend, "fp16-emulated", gain);
  }

  /** As {@link #runner(ModelGraph, Backend, float)}, on {@code backend}'s {@code mode}. */
  public static ProbeRunner runner(ModelGraph g, Backend backend, String mode, float gain) {
    SpiProbeRunner fp16 =
        new SpiProbeRunner(
            g, new ProbeBackends(backend, BuildOptions.of("fp32"), backend, BuildOptions.of(mode)));
    SpiProbeRunner fp32 =
        new SpiProbeRunner(
            g,
            new ProbeBackends(backend, BuildOptions.of("fp32"), backend, BuildOptions.of("fp32")));
    return (spec, feeds) -> {
      ProbeRunner.Outcome c = fp16.run(spec, feeds);
      if (spec.side() != ProbeSpec.Side.CANDIDATE) {
        return c;
      }
      ProbeRunner.Outcome r = fp32.run(spec, feeds);
      List<ImmutableMap<String, Tensor>> samples = new ArrayList<>();
      for (int i = 0; i < c.samples().size(); i++) {
        Map<String, Tensor> d = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> v : c.samples().get(i).entrySet()) {
          float[] cv = v.getValue().toFloatArray();
          float[] rv = r.samples().get(i).get(v.getKey()).toFloatArray();
          for (int j = 0; j < cv.length; j++) {
            cv[j] = rv[j] + gain * (cv[j] - rv[j]);
          }
          d.put(v.getKey(), Tensor.ofFloats(v.getValue().shape(), cv));
        }
        samples.add(ImmutableMap.copyOf(d));
      }
      return new ProbeRunner.Outcome(ImmutableList.copyOf(samples), c.buildTime(), c.runTime());
    };
  }
}
