package dev.halfbisect.onnx;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fuzzing loop shared by {@link SurgeryFuzzTest} (short CI run) and the long run: {@code java
 * -cp <test classpath> dev.halfbisect.onnx.SurgeryFuzz SECONDS [SEED]}.
 */
final class SurgeryFuzz {
  /** Outcome of a run: counts and, per distinct bug signature, how to reproduce it. */
  record Result(int inputs, int accepted, int rejected, Map<String, String> bugs) {
    String summary(long seed) {
      return String.format(
          "%d inputs (seed %d), %d accepted, %d rejected with typed exceptions, %d distinct bugs",
          inputs, seed, accepted, rejected, bugs.size());
    }
  }

  private SurgeryFuzz() {}

  /**
   * Runs {@code iterations} mutants, or as many as fit in {@code seconds} when that is positive.
   */
  static Result run(Path tmp, long seed, int iterations, long seconds) throws Exception {
    Path modelDir = tmp.resolve("model");
    SurgeryFuzzTarget.prepareFolder(tmp, modelDir);
    List<byte[]> corpus = SurgeryFuzzTarget.seedCorpus(modelDir);
    SurgeryFuzzTarget target = new SurgeryFuzzTarget(modelDir);
    for (byte[] b : corpus) {
      target.exercise(b); // the seeds themselves must pass cleanly
    }
    ModelMutator mutator = new ModelMutator(corpus, seed);
    Map<String, String> bugs = new LinkedHashMap<>();
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    int accepted = 0;
    int rejected = 0;
    int i = 0;
    for (; seconds > 0 ? System.nanoTime() < deadline : i < iterations; i++) {
      ModelMutator.Mutant mutant = mutator.next();
      try {
        target.exercise(mutant.bytes());
        accepted++;
      } catch (Throwable t) { // everything that escapes is looked at, errors included
        if (SurgeryFuzzTarget.isAllowed(t)) {
          rejected++;
        } else {
          bugs.putIfAbsent(
              SurgeryFuzzTarget.signature(t),
              "seed " + seed + " iteration " + i + ": " + mutant.description() + "\n" + stack(t));
        }
      }
    }
    return new Result(i, accepted, rejected, bugs);
  }

  static String stack(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    String s = w.toString();
    return s.length() > 2500 ? s.substring(0, 2500) : s;
  }

  public static void main(String[] args) throws Exception {
    long seconds = args.length > 0 ? Long.parseLong(args[0]) : 600;
    long seed = args.length > 1 ? Long.parseLong(args[1]) : System.currentTimeMillis();
    Path tmp = Files.createTempDirectory("surgery-fuzz");
    Result r = run(tmp, seed, 0, seconds);
    System.out.println("SurgeryFuzz: " + r.summary(seed));
    r.bugs().forEach((sig, how) -> System.out.println("BUG " + sig + "\n  " + how));
    System.exit(r.bugs().isEmpty() ? 0 : 1);
  }
}
