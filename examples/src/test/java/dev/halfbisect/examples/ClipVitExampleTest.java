package dev.halfbisect.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * CLIP ViT on CPU: FP32 matches the reference exactly, FP16 emulation is close, TF32 is n/a without
 * TensorRT.
 */
class ClipVitExampleTest {
  @Test
  void accuracyTableHasFp32ExactFp16CloseAndTf32NotAvailable() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    ExampleOutcome r =
        Examples.get("clip-vit")
            .run(ExampleOptions.emulated(new PrintStream(buf, true, StandardCharsets.UTF_8)));
    assertThat(r.number("fp32.maxAbs")).isZero();
    assertThat(r.number("fp16.maxAbs")).isGreaterThan(1e-5).isLessThan(5e-2);
    assertThat(r.number("fp16.medianRel")).isGreaterThan(0).isLessThan(1e-2);
    assertThat(r.text("tf32.maxAbs")).isEqualTo("n/a");
    assertThat(r.fixPasses()).isTrue();
    assertThat(r.motif()).isEqualTo("LayerNorm");
    assertThat(buf.toString(StandardCharsets.UTF_8)).contains("n/a (no TensorRT)");
  }
}
