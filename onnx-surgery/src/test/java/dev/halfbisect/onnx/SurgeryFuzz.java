package dev.halfbisect.onnx;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fuzzing loop shared by {@link SurgeryFuzzTest} (short CI run) and the long run, the program
 * {@code dev.halfbisect.bench.surgery.SurgeryFuzzDriver} in bench/.
 */
public final class SurgeryFuzz {
  /** Outcome of a run: counts and, per distinct bug signature, how to reproduce it. */
  public record Result(int inputs, int accepted, int rejected, Map<String, String> bugs) {
    public String summary(long seed) {
      return String.format(
          "%d inputs (seed %d), %d accepted, %d rejected with typed exceptions, %d distinct bugs",
          inputs, seed, accepted, rejected, bugs.size());
    }
  }

  private SurgeryFuzz() {}

  /**
   * Runs {@code iterations} mutants, or as many as fit in {@code seconds} when that is positive.
   */
  public static Result run(Path tmp, long seed, int iterations, long seconds) throws Exception {
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
}
