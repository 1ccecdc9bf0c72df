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

/**
 * Emulation first's calibrated retry on all-MiniLM-L6-v2 (sequence 128), on the CPU: ONNX Runtime's
 * FP16 emulation searches, and the "candidate" is the same emulation with every observed value's
 * error multiplied by GAIN (TensorRT erred 1.35x the emulation on MiniLM on the H200). At the bound
 * B the emulation passes as it is and the candidate does not, so the emulation searches again at B
 * / GAIN, and the candidate confirms that plan and shrinks it guided by the emulation (or, failing
 * it, takes the one found at B / (GAIN x 1.25)). Prints what emulation first (as the facade runs
 * it) makes of it, and with a fifth argument {@code ddmin}, ddmin on the candidate ({@link
 * PrecisionSearch#shrink}) from the plan found at B / (GAIN x 1.25): nodes, candidate builds,
 * 1-minimal, wall. Overflow pinning is off on both sides. The ONNX Runtime modes of the emulation
 * and of the candidate's base default to {@code fp16-emulated}; {@code fp16-acc16-emulated} as the
 * candidate's is the closest CPU stand-in for weak-typed TensorRT found so far.
 *
 * <pre>
 * java -cp ... dev.halfbisect.bench.CalibratedRetryHarness all-minilm-l6-v2.onnx [B [GAIN [JOBS [ddmin|-
 *     [EMULATION_MODE [CANDIDATE_MODE]]]]]]
 * </pre>
 */
public final class CalibratedRetryHarness {
  private CalibratedRetryHarness() {}

  public static void main(String[] args) {
    Path file = Path.of(args[0]);
    double bound = args.length > 1 ? Double.parseDouble(args[1]) : 3e-3;
    double gain = args.length > 2 ? Double.parseDouble(args[2]) : 1.35;
    int jobs = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    String emuMode = args.length > 5 ? args[5] : "fp16-emulated";
    String candMode = args.length > 6 ? args[6] : emuMode;
    OnnxModel m = OnnxModel.load(file);
    Map<String, Tensor> sample = MiniLmModel.sample(128, new SplittableRandom(11)::nextInt);
    Backend ort = Backends.get("ort");
    Tolerance t = Tolerance.normalized(bound);
    BisectContext emu = context(m, ort, emuMode, sample, t, jobs, null);
    ProbeRunner gained = ErrorGain.runner(emu.model(), ort, candMode, (float) gain);
    PrecisionSearch.Options emuOptions =
        PrecisionSearch.Options.defaults().withPinOverflows(false).withMaxSearchBuilds(400);
    PrecisionSearch.Options candOptions =
        PrecisionSearch.Options.defaults().withPinOverflows(false);
    EmulationFirst.Stricter stricter =
        f ->
            Optional.of(
                context(m, ort, emuMode, sample, Tolerance.normalized(bound / f), jobs, null));

    long t0 = System.nanoTime();
    BisectContext cand = context(m, ort, candMode, sample, t, jobs, gained);
    // the facade's preflight builds both all-FP16 engines first: with their ratio known, the
    // stricter search starts while the candidate tries the emulation's plan
    double allFp16 = EmulationFirst.outputErrorRatio(emu, cand);
    EmulationFirst.Precision ef =
        EmulationFirst.precision(emu, cand, emuOptions, candOptions, stricter);
    double wall = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "MiniLM, bound %.3g, candidate gain %.2f (measured %.2f all-FP16, %.2f calibrated), jobs"
            + " %d: emulation builds %d; the plan the candidate confirmed was found %.2fx stricter;"
            + " the candidate %s%n",
        bound,
        gain,
        allFp16,
        ef.calibration(),
        jobs,
        ef.emulationBuilds(),
        ef.factor(),
        ef.nominal()
            ? "passed the plan found at the ratio's bound"
            : "failed the plan found at the ratio's bound");
    System.out.println("| shrink | nodes | candidate builds | 1-minimal | wall |");
    System.out.println("|---|---|---|---|---|");
    row("emulation first", ef.result(), cand.prober().candidateBuilds(), wall);

    if (args.length > 4 && args[4].equals("ddmin")) { // "-": no ddmin row
      // the old way's starting point: the emulation's plan with the margin, ddmin on the candidate
      BisectContext strict =
          context(
              m,
              ort,
              emuMode,
              sample,
              Tolerance.normalized(bound / (gain * EmulationFirst.CALIBRATION_MARGIN)),
              jobs,
              null);
      PrecisionSearch.Result plan = PrecisionSearch.run(strict, emuOptions);
      long t1 = System.nanoTime();
      BisectContext cand2 = context(m, ort, candMode, sample, t, jobs, gained);
      PrecisionSearch.Result dd = PrecisionSearch.shrink(cand2, plan.fp32Nodes(), candOptions);
      row("ddmin", dd, cand2.prober().candidateBuilds(), (System.nanoTime() - t1) / 1e9);
    }
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
      String mode,
      Map<String, Tensor> sample,
      Tolerance t,
      int jobs,
      ProbeRunner runner) {
    BisectContext.Builder b =
        BisectContext.builder(m, ort, BuildOptions.of("fp32"), ort, BuildOptions.of(mode))
            .samples(List.of(sample))
            .tolerance(t)
            .parallelism(jobs);
    if (runner != null) {
      b.runner(runner);
    }
    return b.build();
  }
}
