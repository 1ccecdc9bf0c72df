package dev.halfbisect.api.testing;

import dev.halfbisect.bisect.testing.ForwardingSession;
import dev.halfbisect.bisect.testing.InterpreterLikeBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.Timing;
import dev.halfbisect.core.backend.TimingRequest;
import java.util.Arrays;
import java.util.Map;

/**
 * Issue 20: the interpreter with a deterministic "GPU" clock (name {@code gpuclock}), so that the
 * choice between plans by speed can be tested: FP32 takes 10 ms, FP16 1 ms plus 1 ms per node kept
 * in FP32.
 */
public final class GpuClockBackend extends InterpreterLikeBackend {
  @Override
  public String name() {
    return "gpuclock";
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    BackendSession s = interp.open(model, options);
    long ms = options.mode().equals(referenceMode()) ? 10 : 1 + options.plan().fp32Nodes().size();
    return new ForwardingSession(s) {
      @Override
      public Timing time(Map<String, Tensor> inputs, TimingRequest request)
          throws BackendException {
        s.run(inputs);
        long[] nanos = new long[request.runs()];
        Arrays.fill(nanos, ms * 1_000_000L);
        return Timing.ofNanos(Timing.Clock.GPU_EVENTS, request.warmup(), nanos);
      }
    };
  }
}
