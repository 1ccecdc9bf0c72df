package dev.halfbisect.examples;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One run of a model on a backend through the SPI: the graph outputs and observed tensors, and the
 * best run time of {@code repeats}. For examples that need raw tensors (per-element deviation
 * shares, latency) beyond what the facade reports.
 *
 * @param tensors graph outputs and observed tensors by ONNX name
 * @param best the fastest of the repeated runs
 */
record BackendRun(Map<String, Tensor> tensors, Duration best) {
  /**
   * Runs {@code model} on {@code spec} (e.g. {@code ort:fp16-emulated}) under {@code plan},
   * observing {@code observed}, {@code repeats} times on one session.
   */
  static BackendRun of(
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
      return new BackendRun(r.outputs(), best);
    } catch (BackendException e) {
      throw new IllegalStateException(
          spec + " failed on " + model.name() + ": " + e.getMessage(), e);
    }
  }

  /** The values of tensor {@code name}, which must have been returned. */
  float[] floats(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "tensor " + name + " was not observed; have " + tensors.keySet());
    }
    return t.toFloatArray();
  }
}
