package dev.halfbisect.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * U-Net on FP16 emulation: Conv outputs deviate most often, ReLU least; observing does not change
 * numbers.
 */
class UnetExampleTest {
  @Test
  void deviationShareFallsFromConvToBnToRelu() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    ExampleOutcome r =
        Examples.get("unet")
            .run(ExampleOptions.emulated(new PrintStream(buf, true, StandardCharsets.UTF_8)));
    double conv = r.number("share.Conv");
    double bn = r.number("share.BatchNormalization");
    double relu = r.number("share.Relu");
    assertThat(conv).isGreaterThan(bn).isLessThan(0.05);
    assertThat(bn).isGreaterThan(relu);
    assertThat(relu).isGreaterThan(0);
    assertThat(r.text("observingChangesNumbers")).isEqualTo("no");
    assertThat(r.fixPasses()).isTrue();
    assertThat(buf.toString(StandardCharsets.UTF_8)).contains("stops Conv+BN+ReLU fusion");
  }
}
