package dev.halfbisect.ort;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Latency of all-MiniLM-L6-v2 (batch 1, seq 128) in the {@code ort} backend, per mode and
 * optimization level: warm-up runs, then the median of timed runs.
 *
 * <p>Run from the repository root:
 * {@code ./mvnw -B -q -o test-compile -pl onnxruntime -am} then
 * {@code java -cp "$(cat onnxruntime/target/cp.txt):onnxruntime/target/classes:onnxruntime/target/test-classes"
 * dev.halfbisect.ort.OrtLatencyHarness [threads=2] [runs=30] [warmup=5] [specs...]} where a spec is
 * {@code MODE} or {@code MODE@LEVEL} ({@code fp32@none}, {@code fp16-emulated@basic}).
 */
public final class OrtLatencyHarness {
  private OrtLatencyHarness() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    String[] specs = args.length > 3 ? Arrays.copyOfRange(args, 3, args.length)
        : new String[] {"fp32", "fp16-emulated"};
    Map<String, Tensor> sample = MiniLm.tokens(1, 128, 42);
    OrtBackend backend = new OrtBackend(0);
    System.out.printf(Locale.ROOT, "all-MiniLM-L6-v2 batch 1 seq 128, %d intra-op threads, %d warm-up + %d timed runs%n",
        threads, warmup, runs);
    for (String spec : specs) {
      String[] parts = spec.split("@", 2);
      BuildOptions opts = BuildOptions.of(parts[0]).withProperty("ort.threads", Integer.toString(threads));
      if (parts.length == 2) {
        opts = opts.withProperty("ort.optLevel", parts[1]);
      }
      try (BackendSession s = backend.open(MiniLm.model(), opts)) {
        for (int i = 0; i < warmup; i++) {
          s.run(sample);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
          long t0 = System.nanoTime();
          s.run(sample);
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "%-24s build %7.0f ms  median %7.2f ms  min %7.2f ms  max %7.2f ms%n",
            spec, s.buildStats().buildTime().toNanos() / 1e6, ms[runs / 2], ms[0], ms[runs - 1]);
      }
    }
  }
}
