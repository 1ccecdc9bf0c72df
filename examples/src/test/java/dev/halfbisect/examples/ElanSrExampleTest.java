package dev.halfbisect.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * ELAN: FP16 images are NaN at every size; the overflow is the planted block's unscaled q k^T,
 * fixed in FP32.
 */
class ElanSrExampleTest {
  @Test
  void overflowIsThePlantedAttentionLogitsAndTheFixKeepsThemInFp32() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    ExampleOutcome r =
        Examples.get("elan-sr")
            .run(ExampleOptions.emulated(new PrintStream(buf, true, StandardCharsets.UTF_8)));
    String planted = "/body/body." + ElanSrExample.PLANTED_BLOCK + "/gmsa/";
    assertThat(r.number("nonFinite.1x12x12")).isPositive();
    assertThat(r.number("nonFinite.2x12x12")).isPositive();
    assertThat(r.firstDivergentNode()).isEqualTo(planted + "window2/MatMul");
    assertThat(r.text("overflowingNodes").split(","))
        .containsExactly(
            planted + "window2/MatMul", planted + "window4/MatMul", planted + "window8/MatMul");
    assertThat(r.fixPasses()).isTrue();
    assertThat(r.fp32Nodes())
        .allMatch(n -> n.startsWith(planted) && (n.endsWith("/MatMul") || n.endsWith("/Softmax")))
        .contains(planted + "window2/MatMul", planted + "window8/MatMul");
    assertThat(buf.toString(StandardCharsets.UTF_8)).contains("throughput", "medianRel");
  }
}
