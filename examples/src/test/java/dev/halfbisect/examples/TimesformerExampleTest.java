package dev.halfbisect.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TimeSformer investigation on FP16 emulation finds the planted overflow, the GELU magnifier
 * and the LayerNorm fix.
 */
class TimesformerExampleTest {
  private static ExampleOutcome outcome;
  private static String printed;

  @BeforeAll
  static void runOnce() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
    outcome = Examples.get("timesformer").run(ExampleOptions.emulated(ps));
    printed = buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void firstDivergenceIsThePowOfTheFirstOverflowingLayerNorm() {
    assertThat(outcome.firstDivergentNode())
        .isEqualTo(
            "/blocks/blocks." + TimesformerExample.FIRST_OVERFLOW_BLOCK + "/temporal_norm1/Pow");
    assertThat(outcome.firstDivergentOpType()).isEqualTo("Pow");
    assertThat(outcome.number("firstDivergentBlock"))
        .isEqualTo(TimesformerExample.FIRST_OVERFLOW_BLOCK);
  }

  @Test
  void tableShowsRoundingBeforeTheOverflowBlockAndLargeErrorFromIt() {
    for (int b = 0; b < TimesformerExample.FIRST_OVERFLOW_BLOCK; b++) {
      for (String stage : TimesformerExample.STAGES) {
        assertThat(outcome.number("block" + b + "." + stage))
            .as("block %s %s", b, stage)
            .isLessThan(1e-2);
      }
      // GELU magnifies the FC1 rounding error by about an order of magnitude.
      assertThat(outcome.number("block" + b + ".GELU"))
          .isGreaterThan(5 * outcome.number("block" + b + ".FC1"));
    }
    for (int b = TimesformerExample.FIRST_OVERFLOW_BLOCK; b < TimesformerExample.BLOCKS; b++) {
      assertThat(outcome.number("block" + b + ".T-attn"))
          .as("block %s T-attn", b)
          .isGreaterThan(0.1);
    }
    assertThat(printed).contains("T-attn", "S-attn", "FC1", "GELU", "FC2");
    assertThat(printed.lines().filter(l -> l.matches("^\\d+ +\\S+e[-+]\\d\\d.*")))
        .hasSize(TimesformerExample.BLOCKS);
  }

  @Test
  void amplificationIsLargestInGelu() {
    assertThat(outcome.motif()).isEqualTo("GELU (mlp/act)");
    assertThat(outcome.amplificationNode()).matches("/blocks/blocks\\.\\d+/mlp/act/.*");
  }

  @Test
  void fixKeepsOnlyLayerNormVariancePartsInFp32AndPasses() {
    assertThat(outcome.fixPasses()).isTrue();
    assertThat(outcome.fp32Nodes())
        .isNotEmpty()
        .allMatch(
            n -> n.matches(".*norm\\d?/(Pow|ReduceMean_1)"),
            "a LayerNorm's Pow or variance ReduceMean")
        .allMatch(
            n ->
                TimesformerExample.blockOf(n) < 0
                    || TimesformerExample.blockOf(n) >= TimesformerExample.FIRST_OVERFLOW_BLOCK,
            "no node before the overflow block");
    assertThat(printed).contains("FP32 fix (precision search)");
  }
}
