package dev.halfbisect.report.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.model.TensorRow;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One root-cause class per node whatever the command (issue 15): amplify's evidence (a node row
 * with local error inf) and diagnose's (the node's tensors) give the same class, and a constant
 * TensorRT clamps is no overflow.
 */
class OneRootCauseClassTest {
  private static final String POW = "/encoder/layer.0/output/LayerNorm/Pow";

  @Test
  void overflowingPowIsOverflowInAmplifyAsInDiagnose() {
    NodeRow amp = NodeRow.of(POW, "Pow", Double.POSITIVE_INFINITY, 1e-3, 0.02, 20);
    RootCause fromAmplify = RootCauseAnalyzer.classify(POW, "Pow", null, List.of(), amp, null);
    TensorRow t =
        TensorRow.of(
                POW + "_out", POW, "Pow", Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, false)
            .withEvidence(9.1e4, 128, 3, 3, 0, 0);
    RootCause fromDiagnose = RootCauseAnalyzer.classify(POW, "Pow", null, List.of(t), null, POW);
    assertThat(fromAmplify.cause()).isEqualTo(RootCause.Cause.OVERFLOW);
    assertThat(fromAmplify.evidence()).contains("local error inf");
    assertThat(fromDiagnose.cause()).isEqualTo(fromAmplify.cause());
  }

  @Test
  void clampedMaskConstantIsNotAnOverflow() {
    String mul = "/Mul";
    // reference -3.4e38 at masked positions, candidate -65504 (finite everywhere)
    TensorRow t =
        TensorRow.of("/Mul_output_0", mul, "Mul", 0, 0, true)
            .withEvidence(3.4028234663852886e38, 128, 0, 24, 0, 0);
    assertThat(RootCauseAnalyzer.overflowEvidence(t)).isNull();
    RootCause c = RootCauseAnalyzer.classify(mul, "Mul", null, List.of(t), null, null);
    assertThat(c.cause()).isNotEqualTo(RootCause.Cause.OVERFLOW);
  }
}
