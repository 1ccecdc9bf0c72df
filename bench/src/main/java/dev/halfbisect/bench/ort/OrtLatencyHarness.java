package dev.halfbisect.bench.ort;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.onnx.testing.MiniLmModel;
import dev.halfbisect.ort.OrtBackend;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Latency of all-MiniLM-L6-v2 (batch 1, seq 128) in the {@code ort} backend, per mode and
 * optimization level: warm-up runs, then the median of timed runs (wall time and process CPU time).
 *
 * <p>Run from the repository root: {@code ./mvnw -B -q -o package -DskipTests -pl bench -am} then
 * {@code java -cp bench/target/benchmarks.jar dev.halfbisect.bench.ort.OrtLatencyHarness
 * [threads=2] [runs=30] [warmup=5] [specs...]} where a spec is {@code MODE} or {@code MODE@LEVEL}
 * ({@code fp32@none}, {@code fp16-emulated@basic}).
 */
public final class OrtLatencyHarness {
  private OrtLatencyHarness() {}

  /**
   * CPU time of the whole process (ONNX Runtime's native threads included): on a machine shared
   * with other work it shows the cost of a run better than wall time does.
   */
  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean
        ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime()
        : 0L;
  }

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    String[] specs =
        args.length > 3
            ? Arrays.copyOfRange(args, 3, args.length)
            : new String[] {"fp32", "fp16-emulated"};
    Map<String, Tensor> sample = MiniLmModel.sample(128, new Random(42)::nextInt);
    ModelRef model = ModelRef.ofBytes(MiniLmModel.FILE_NAME, MiniLmModel.bytes(), null);
    OrtBackend backend = new OrtBackend(0);
    System.out.printf(
        Locale.ROOT,
        "all-MiniLM-L6-v2 batch 1 seq 128, %d intra-op threads, %d warm-up + %d timed runs%n",
        threads,
        warmup,
        runs);
    Tensor first = null;
    for (String spec : specs) {
      String[] parts = spec.split("@", 2);
      BuildOptions opts =
          BuildOptions.of(parts[0]).withProperty("ort.threads", Integer.toString(threads));
      if (parts.length == 2) {
        opts = opts.withProperty("ort.optLevel", parts[1]);
      }
      try (BackendSession s = backend.open(model, opts)) {
        Tensor out = s.run(sample).get(s.outputNames().get(0));
        if (first == null) {
          first = out;
        }
        for (int i = 0; i < warmup; i++) {
          s.run(sample);
        }
        double[] ms = new double[runs];
        long c0 = processCpuNanos();
        for (int i = 0; i < runs; i++) {
          long t0 = System.nanoTime();
          s.run(sample);
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        // the process clock ticks in 10 ms steps on Linux: report the mean over all timed runs
        double cpuPerRun = (processCpuNanos() - c0) / 1e6 / runs;
        Arrays.sort(ms);
        System.out.printf(
            Locale.ROOT,
            "%-24s build %6.0f ms | wall median %7.2f ms  min %7.2f  max %7.2f | process CPU %7.2f ms/run"
                + " | normalized error vs %s %.3e%n",
            spec,
            s.buildStats().buildTime().toNanos() / 1e6,
            ms[runs / 2],
            ms[0],
            ms[runs - 1],
            cpuPerRun,
            specs[0],
            ErrorMetrics.compare(first, out).normalizedError());
      }
    }
  }
}
