package dev.halfbisect.api.testing;

import com.google.common.collect.ImmutableMap;
import dev.halfbisect.bisect.testing.ForwardingSession;
import dev.halfbisect.bisect.testing.InterpreterLikeBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import java.util.Map;

/**
 * Backend {@code gain}: the interpreter whose FP16 candidate errs exactly twice as much as the
 * interpreter's FP16 emulation (every value is {@code fp32 + 2 (fp16 - fp32)}), as a TensorRT
 * engine whose fused kernels round more coarsely than the emulation; for emulation first's
 * calibrated retry (issue 18).
 */
public final class ErrorGainBackend extends InterpreterLikeBackend {
  @Override
  public String name() {
    return "gain";
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    BackendSession fp16 = interp.open(model, options);
    if (options.mode().equals(referenceMode())) {
      return fp16;
    }
    BackendSession fp32 =
        interp.open(model, BuildOptions.of(referenceMode()).withObserved(options.observed()));
    return new ForwardingSession(fp16) {
      @Override
      public RunResult run(Map<String, Tensor> inputs) throws BackendException {
        RunResult c = fp16.run(inputs);
        RunResult r = fp32.run(inputs);
        ImmutableMap.Builder<String, Tensor> out = ImmutableMap.builder();
        c.outputs()
            .forEach(
                (name, t) -> {
                  float[] cv = t.toFloatArray();
                  float[] rv = r.outputs().get(name).toFloatArray();
                  for (int i = 0; i < cv.length; i++) {
                    cv[i] = rv[i] + 2 * (cv[i] - rv[i]);
                  }
                  out.put(name, Tensor.ofFloats(t.shape(), cv));
                });
        return new RunResult(out.build(), c.runTime());
      }

      @Override
      public void close() {
        fp32.close();
        super.close();
      }
    };
  }
}
