package dev.halfbisect.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The real MiniLM on FP16 emulation: outputs pass with a small but real error, no FP32 node is
 * needed.
 */
class MiniLmExampleTest {
  @Test
  void miniLmDriftIsSmallAndNeedsNoFp32Nodes() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    ExampleOutcome r =
        Examples.get("minilm")
            .run(ExampleOptions.emulated(new PrintStream(buf, true, StandardCharsets.UTF_8)));
    String printed = buf.toString(StandardCharsets.UTF_8);

    assertThat(r.number("outputNormalizedError")).isGreaterThan(1e-5).isLessThan(1e-2);
    assertThat(r.number("observedTensors")).isGreaterThan(300);
    // 13 LayerNorm eps constants (1e-12) underflow to 0; the mask fill -3.4e38 overflows.
    assertThat(r.number("fp16UnrepresentableConstants")).isGreaterThanOrEqualTo(14);
    assertThat(r.firstDivergentNode()).isEmpty();
    assertThat(r.fixPasses()).isTrue();
    assertThat(r.fp32Nodes()).isEmpty();
    assertThat(r.amplificationNode()).startsWith("/");
    assertThat(r.motif()).isNotEmpty();
    assertThat(printed).contains("Top amplifying nodes", "Precision plan: all FP16");
  }
}
