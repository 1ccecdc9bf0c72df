package dev.halfbisect.bench.surgery;

import dev.halfbisect.onnx.SurgeryFuzz;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The long fuzzing run of onnx-surgery's load, index and surgery operations (the CI test runs the
 * same loop for a few thousand inputs): {@code java -cp bench/target/benchmarks.jar
 * dev.halfbisect.bench.surgery.SurgeryFuzzDriver [SECONDS=600] [SEED]}. Exit 1 when a bug (an
 * exception other than the typed model errors) escaped; each is printed with how to reproduce it.
 */
public final class SurgeryFuzzDriver {
  private SurgeryFuzzDriver() {}

  public static void main(String[] args) throws Exception {
    long seconds = args.length > 0 ? Long.parseLong(args[0]) : 600;
    long seed = args.length > 1 ? Long.parseLong(args[1]) : System.currentTimeMillis();
    Path tmp = Files.createTempDirectory("surgery-fuzz");
    SurgeryFuzz.Result r = SurgeryFuzz.run(tmp, seed, 0, seconds);
    System.out.println("SurgeryFuzz: " + r.summary(seed));
    r.bugs().forEach((sig, how) -> System.out.println("BUG " + sig + "\n  " + how));
    System.exit(r.bugs().isEmpty() ? 0 : 1);
  }
}
