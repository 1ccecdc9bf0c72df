package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.api.testing.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 19: {@code planFrom} through the facade. */
class PlanFromTest {
  @TempDir Path tmp;

  private HalfBisect overflow() {
    return HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated");
  }

  @Test
  void theConvertedModelsSetIsThePlanAndPrecisionShrinksIt() throws Exception {
    Path converted = TestModels.write(TestModels.overflowAutoCast(), tmp.resolve("ac.onnx"));
    HalfBisect hb = overflow().planFrom(converted);
    assertThat(hb.plan().fp32Nodes()).containsExactly("out_add", "shrink", "square");
    CompareResult c = hb.compare();
    assertThat(c.passed()).isTrue();
    assertThat(c.report().warnings())
        .anySatisfy(w -> assertThat(w).startsWith("plan from AutoCast-style model ac.onnx"));
    PrecisionResult p = hb.outDir(tmp.resolve("out")).precision();
    assertThat(p.plan().fp32Nodes()).containsExactly("shrink", "square");
    assertThat(p.report().warnings())
        .anySatisfy(
            w -> assertThat(w).contains("1 of the 3 FP32 nodes of ac.onnx were unnecessary"));
    assertThat(tmp.resolve("out/model-fp16.onnx")).isRegularFile();
  }

  @Test
  void errorsAreUsageErrors() {
    assertThatThrownBy(() -> overflow().planFrom(tmp.resolve("none.onnx")))
        .isInstanceOfSatisfying(
            HalfBisectException.class,
            e -> assertThat(e.kind()).isEqualTo(HalfBisectException.Kind.USAGE))
        .hasMessageContaining("none.onnx");
  }
}
