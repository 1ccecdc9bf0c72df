package dev.halfbisect.examples;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.data.InputGenerator;
import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One run of a model on a backend through the SPI, observing chosen tensors; for examples that need
 * raw tensors (per-element deviation shares, latency) beyond what the facade reports.
 */
final class TwoRuns {
  private TwoRuns() {}

  /** The result of one backend run and its timing (best of {@code repeats}). */
  record Run(Map<String, Tensor> tensors, Duration best) {
    float[] floats(String name) {
      Tensor t = tensors.get(name);
      if (t == null) {
        throw new IllegalArgumentException(
            "tensor " + name + " was not observed; have " + tensors.keySet());
      }
      return t.toFloatArray();
    }
  }

  static Map<String, Tensor> inputs(List<InputSpec> specs, long seed) {
    return InputGenerator.generate(specs, 1, seed).get(0);
  }

  /**
   * Runs {@code model} on {@code spec} (e.g. {@code ort:fp16-emulated}) under {@code plan},
   * observing {@code observed}.
   */
  static Run run(
      OnnxModel model,
      String spec,
      PrecisionPlan plan,
      List<String> observed,
      Map<String, Tensor> inputs,
      int repeats) {
    BackendSpec s = BackendSpec.parse(spec);
    Backend b = Backends.resolve(s);
    try (BackendSession session =
        b.open(model.toModelRef(), BuildOptions.of(s.mode(), plan).withObserved(observed))) {
      RunResult r = session.run(inputs);
      Duration best = r.runTime();
      for (int i = 1; i < repeats; i++) {
        RunResult again = session.run(inputs);
        best = again.runTime().compareTo(best) < 0 ? again.runTime() : best;
      }
      return new Run(r.outputs(), best);
    } catch (BackendException e) {
      throw new IllegalStateException(
          spec + " failed on " + model.name() + ": " + e.getMessage(), e);
    }
  }
}
