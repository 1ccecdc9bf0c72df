package dev.halfbisect.bench.surgery;

import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.CastPlacedEmulation;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.Fp16Emulation;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * Times {@link Fp16Emulation#apply}, {@link Fp16Conversion#apply} (plan: all FP16) and {@link
 * CastPlacedEmulation#apply} on the converted model (the strong emulation's two steps) on the real
 * all-MiniLM-L6-v2 (637 nodes, 90 MB of float32 weights), single thread. Every round rewrites the
 * same parsed model, as a search does once per probe: round 0 converts the weights, later rounds
 * find them converted (RoundedInitializers). Not a test; run with {@code java -cp
 * bench/target/benchmarks.jar dev.halfbisect.bench.surgery.Fp16RewriteHarness [rounds]}. Numbers go
 * to docs/PERFORMANCE.md.
 */
public final class Fp16RewriteHarness {
  private Fp16RewriteHarness() {}

  public static void main(String[] args) throws IOException {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
    OnnxModel model = OnnxModel.parse(MiniLmModel.bytes(), null, "all-minilm-l6-v2");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    System.out.printf(
        Locale.ROOT,
        "%-6s %10s %10s %10s %10s %12s %10s %10s%n",
        "round",
        "emu ms",
        "emu cpu",
        "conv ms",
        "conv cpu",
        "strong emu ms",
        "emu nodes",
        "conv nodes");
    for (int r = 0; r < rounds; r++) {
      OnnxModel fresh = OnnxModel.of(model.proto(), null, model.name()); // no cached index
      long c0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      OnnxModel emu = Fp16Emulation.apply(fresh, PrecisionPlan.allFp16());
      long t1 = System.nanoTime();
      long c1 = threads.getCurrentThreadCpuTime();
      Fp16Conversion.Result conv = Fp16Conversion.apply(fresh, PrecisionPlan.allFp16());
      long t2 = System.nanoTime();
      long c2 = threads.getCurrentThreadCpuTime();
      CastPlacedEmulation.apply(conv.model(), LowPrecision.FP16);
      long t3 = System.nanoTime();
      System.out.printf(
          Locale.ROOT,
          "%-6d %10.0f %10.0f %10.0f %10.0f %12.0f %10d %10d%n",
          r,
          (t1 - t0) / 1e6,
          (c1 - c0) / 1e6,
          (t2 - t1) / 1e6,
          (c2 - c1) / 1e6,
          (t3 - t2) / 1e6,
          emu.graph().getNodeCount(),
          conv.model().graph().getNodeCount());
    }
  }
}
