package dev.halfbisect.bench;

import dev.halfbisect.bisect.BisectContext;
import dev.halfbisect.bisect.EmulationFirst;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.bisect.ProbeRunner;
import dev.halfbisect.bisect.testing.ErrorGain;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Emulation first's calibrated retry on all-MiniLM-L6-v2 (sequence 128), on the CPU: ONNX Runtime's
 * FP16 emulation searches, and the "candidate" is the same emulation with every observed value's
 * error multiplied by GAIN (TensorRT erred 1.35x the emulation on MiniLM on the H200). At the bound
 * B the emulation passes as it is and the candidate does not, so the emulation searches again at B
 * / (GAIN x 1.25), shrinks that plan at B / GAIN, and the candidate confirms it (or, failing it,
 * shrinks the stricter plan guided by the emulation). Prints what emulation first (as the facade
 * runs it) and ddmin on the candidate ({@link PrecisionSearch#shrink}) make of the same stricter
 * plan: nodes, candidate builds, 1-minimal, wall. Overflow pinning is off on both sides, so that
 * both shrink the same set.
 *
 * <pre>
 * java -cp ... dev.halfbisect.bench.CalibratedRetryHarness all-minilm-l6-v2.onnx [B [GAIN [JOBS]]]
 * </pre>
 */
public final class CalibratedRetryHarness {
  private CalibratedRetryHarness() {}

  public static void main(String[] args) {
    Path file = Path.of(args[0]);
    double bound = args.length > 1 ? Double.parseDouble(args[1]) : 3e-3;
    double gain = args.length > 2 ? Double.parseDouble(args[2]) : 1.35;
    int jobs = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    OnnxModel m = OnnxModel.load(file);
    Map<String, Tensor> sample = MiniLmModel.sample(128, new SplittableRandom(11)::nextInt);
    Backend ort = Backends.get("ort");
    Tolerance t = Tolerance.normalized(bound);
    BisectContext emu = context(m, ort, sample, t, jobs, null);
    ProbeRunner gained = ErrorGain.runner(emu.model(), ort, (float) gain);
    PrecisionSearch.Options emuOptions =
        PrecisionSearch.Options.defaults().withPinOverflows(false).withMaxSearchBuilds(400);
    PrecisionSearch.Options candOptions =
        PrecisionSearch.Options.defaults().withPinOverflows(false);
    AtomicReference<BisectContext> strict = new AtomicReference<>();
    EmulationFirst.Stricter stricter =
        f -> {
          BisectContext c = context(m, ort, sample, Tolerance.normalized(bound / f), jobs, null);
          strict.compareAndSet(null, c); // the first is the stricter search's, then the ratio's
          return Optional.of(c);
        };

    long t0 = System.nanoTime();
    BisectContext cand = context(m, ort, sample, t, jobs, gained);
    EmulationFirst.Precision ef =
        EmulationFirst.precision(emu, cand, emuOptions, candOptions, stricter);
    double wall = (System.nanoTime() - t0) / 1e9;
    // the stricter context has decided every probe of its search: running it again is free
    PrecisionSearch.Result plan = PrecisionSearch.run(strict.get(), emuOptions);
    System.out.printf(
        Locale.ROOT,
        "MiniLM, bound %.3g, candidate gain %.2f (measured %.2f), jobs %d: stricter emulation plan"
            + " %d nodes (%s); emulation builds %d; the candidate %s%n",
        bound,
        gain,
        ef.calibration(),
        jobs,
        plan.fp32Nodes().size(),
        plan.oneMinimal() ? "1-minimal" : "cap reached",
        ef.emulationBuilds(),
        ef.nominal()
            ? "passed the plan shrunk at the ratio's bound"
            : "shrank the stricter plan itself");
    System.out.println("| shrink | nodes | candidate builds | 1-minimal | wall |");
    System.out.println("|---|---|---|---|---|");
    row("emulation first", ef.result(), cand.prober().candidateBuilds(), wall);

    long t1 = System.nanoTime();
    BisectContext cand2 = context(m, ort, sample, t, jobs, gained);
    PrecisionSearch.Result dd = PrecisionSearch.shrink(cand2, plan.fp32Nodes(), candOptions);
    row("ddmin", dd, cand2.prober().candidateBuilds(), (System.nanoTime() - t1) / 1e9);
  }

  private static void row(String name, PrecisionSearch.Result r, int builds, double wall) {
    System.out.printf(
        Locale.ROOT,
        "| %s | %d | %d | %s | %.0f s |%n",
        name,
        r.fp32Nodes().size(),
        builds,
        r.oneMinimal() ? "yes" : "no",
        wall);
  }

  private static BisectContext context(
      OnnxModel m,
      Backend ort,
      Map<String, Tensor> sample,
      Tolerance t,
      int jobs,
      ProbeRunner runner) {
    BisectContext.Builder b =
        BisectContext.builder(
                m, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
            .samples(List.of(sample))
            .tolerance(t)
            .parallelism(jobs);
    if (runner != null) {
      b.runner(runner);
    }
    return b.build();
  }
}
