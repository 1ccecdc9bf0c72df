package dev.halfbisect.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded structural fuzzing of the ONNX loader, graph index and surgery operations (see {@link
 * ModelMutator}, {@link SurgeryFuzzTarget}). CI runs 2,000 mutations; longer runs take {@code
 * -Dhalfbisect.fuzz.seconds=600} and {@code -Dhalfbisect.fuzz.seed=S}, or the main of {@link
 * SurgeryFuzz}. Each untyped exception is reported once per signature with the seed, iteration and
 * mutation that reproduce it.
 */
class SurgeryFuzzTest {
  @TempDir Path tmp;

  @Test
  void mutatedModelsAreRejectedOnlyWithTypedExceptions() throws Exception {
    long seed = Long.getLong("halfbisect.fuzz.seed", 20261122L);
    SurgeryFuzz.Result r =
        SurgeryFuzz.run(
            tmp,
            seed,
            Integer.getInteger("halfbisect.fuzz.iterations", 2000),
            Long.getLong("halfbisect.fuzz.seconds", 0L));
    System.out.println("SurgeryFuzzTest: " + r.summary(seed));
    r.bugs().forEach((sig, how) -> System.out.println("BUG " + sig + "\n  " + how));
    assertThat(r.bugs()).as("untyped exceptions escaped").isEmpty();
    assertThat(r.accepted())
        .as("some mutants stay valid, so the operations are reached")
        .isPositive();
    assertThat(r.rejected()).as("most mutants are rejected").isPositive();
  }
}
