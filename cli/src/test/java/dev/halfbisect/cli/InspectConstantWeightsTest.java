package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.onnx.builder.ParseTimeModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inspect} reports FP16 damage of weights held in Constant nodes (issue 15, point 6). */
class InspectConstantWeightsTest {
  @TempDir Path tmp;

  @Test
  void bnVarianceInAConstantNodeIsReportedAsDamaged() {
    Path m = tmp.resolve("cnn.onnx");
    ParseTimeModels.convBnCnn(ParseTimeModels.HUGE_VARIANCE).save(m);
    CliRun r = CliRun.of("inspect", m.toString());
    assertThat(r.exit()).isEqualTo(Main.PASS);
    assertThat(r.out())
        .contains("FP16 range of float weights (initializers and Constant nodes)")
        .contains("9.7900e+07")
        .contains("Constant /block1/")
        .contains("weight(s) lose values in FP16")
        .doesNotContain("no weight (initializer or Constant node) is damaged");
  }

  @Test
  void healthyConstantsAreSaidToBeUndamaged() {
    Path m = tmp.resolve("cnn.onnx");
    ParseTimeModels.convBnCnn(1f).save(m);
    assertThat(CliRun.of("inspect", m.toString()).out())
        .contains("no weight (initializer or Constant node) is damaged by FP16 storage");
  }
}
