package dev.halfbisect.api;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.Timing;
import dev.halfbisect.core.backend.TimingRequest;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import java.util.List;
import java.util.Map;

/**
 * Issue 20: one timed build of the whole model (graph outputs only) in a backend mode and plan:
 * opens a session, runs the inputs once for the outputs, times them, closes the session. Shared by
 * {@code perf} and the plan price of {@code precision}/{@code diagnose}.
 */
final class Latency {
  /** The outputs of one run and the timing of the same inputs. */
  record Measured(RunResult outputs, Timing timing) {}

  private final ModelGraph graph;
  private ModelRef model;

  Latency(ModelGraph graph) {
    this.graph = graph;
  }

  /**
   * Builds, runs once and times.
   *
   * @param timing null: run once, no timing (a reference run)
   * @throws HalfBisectException BACKEND when the backend cannot build or run it, USAGE when the
   *     inputs do not fit
   */
  Measured measure(
      Backend backend,
      String mode,
      PrecisionPlan plan,
      Map<String, Tensor> inputs,
      TimingRequest timing) {
    String what = backend.name() + ":" + mode;
    try (BackendSession s = backend.open(model(), BuildOptions.of(mode, plan))) {
      RunResult r = s.run(inputs);
      return new Measured(r, timing == null ? null : s.time(inputs, timing));
    } catch (BackendException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          what + " cannot build or run " + graph.name() + ": " + e.getMessage(),
          e);
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage(
          "the inputs do not fit " + graph.name() + " in " + what + ": " + e.getMessage());
    }
  }

  /** Error statistics over every float graph output, pooled, candidate against reference. */
  static ErrorStats pooledErrors(List<String> floatOutputs, RunResult ref, RunResult cand) {
    int n = 0;
    for (String o : floatOutputs) {
      n += ref.get(o).toFloatArray().length;
    }
    float[] r = new float[n];
    float[] c = new float[n];
    int at = 0;
    for (String o : floatOutputs) {
      float[] ro = ref.get(o).toFloatArray();
      float[] co = cand.get(o).toFloatArray();
      if (ro.length != co.length) {
        throw new HalfBisectException(
            HalfBisectException.Kind.BACKEND,
            "output "
                + o
                + " has "
                + co.length
                + " elements in the candidate, "
                + ro.length
                + " in the reference");
      }
      System.arraycopy(ro, 0, r, at, ro.length);
      System.arraycopy(co, 0, c, at, co.length);
      at += ro.length;
    }
    return ErrorMetrics.compare(r, c);
  }

  /** Whether every float output passes {@code tolerance}. */
  static boolean passes(
      List<String> floatOutputs, Tolerance tolerance, RunResult ref, RunResult cand) {
    for (String o : floatOutputs) {
      float[] ro = ref.get(o).toFloatArray();
      float[] co = cand.get(o).toFloatArray();
      if (!tolerance.check(o, ErrorMetrics.compare(ro, co), ro, co).pass()) {
        return false;
      }
    }
    return true;
  }

  private ModelRef model() {
    if (model == null) {
      model =
          ModelRef.ofBytes(graph.name(), graph.proto().toByteArray(), graph.baseDir().orElse(null));
    }
    return model;
  }
}
