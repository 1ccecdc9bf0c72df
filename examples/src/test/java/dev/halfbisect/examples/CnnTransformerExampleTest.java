package dev.halfbisect.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The planted huge weights are found twice: by the initializer range report and by bisecting
 * activations.
 */
class CnnTransformerExampleTest {
  @Test
  void rangeReportAndBisectionPointAtThePlantedModuleAndTheFixStaysInIt() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    ExampleOutcome r =
        Examples.get("cnn-transformer")
            .run(ExampleOptions.emulated(new PrintStream(buf, true, StandardCharsets.UTF_8)));
    String planted = "/transformer/layers." + CnnTransformerExample.PLANTED_LAYER + "/";
    assertThat(r.text("overflowingInitializers")).isEqualTo(CnnTransformerExample.PLANTED_WEIGHT);
    assertThat(r.number("outputNonFinite")).isPositive();
    assertThat(r.firstDivergentNode()).isEqualTo(planted + "linear2/MatMul");
    assertThat(r.text("module")).isEqualTo(planted + "linear2");
    assertThat(r.fixPasses()).isTrue();
    assertThat(r.fp32Nodes())
        .isNotEmpty()
        .allMatch(n -> n.startsWith(planted))
        .contains(planted + "linear2/MatMul");
  }
}
