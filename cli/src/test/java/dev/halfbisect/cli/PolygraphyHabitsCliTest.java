package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.api.testing.TestModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 17 point 6: per-tensor tolerances, --version, help CMD, completion, saved outputs. */
class PolygraphyHabitsCliTest {
  @TempDir Path tmp;

  static CliRun run(String command, Path model, String... extra) {
    return CliRun.onInterpreter(command, model, extra);
  }

  @Test
  void perTensorToleranceAppliesToThatTensorOnly() throws IOException {
    Path healthy = TestModels.write(TestModels.healthy(), tmp.resolve("healthy.onnx"));
    assertThat(run("compare", healthy).exit()).isZero();
    // FP16 rounding of y cannot meet 1e-9 elementwise: y fails under its own bound
    CliRun strict = run("compare", healthy, "--atol", "y:1e-9", "--rtol", "y:0");
    assertThat(strict.exit()).as(strict.err()).isEqualTo(1);
    assertThat(run("compare", healthy, "--atol", "y:1", "--rtol", "y:1").exit()).isZero();
    assertThat(run("compare", healthy, "--atol", "1", "--rtol", "1").exit()).isZero();
    CliRun unknown = run("compare", healthy, "--atol", "nosuch:1e-3");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.errLine()).contains("nosuch", "has no float tensor");
    CliRun bad = run("compare", healthy, "--atol", "y:abc");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.errLine()).contains("--atol y:abc: expected a number or NAME:NUMBER");
  }

  @Test
  void tensorBoundsParseNamesWithColons() {
    TensorBounds b = TensorBounds.parse(List.of("1e-4", "logits:0:1e-3", "/a/b:2"), "--atol");
    assertThat(b.global()).isEqualTo(1e-4);
    assertThat(b.byTensor()).containsEntry("logits:0", 1e-3).containsEntry("/a/b", 2.0);
    assertThatThrownBy(() -> TensorBounds.parse(List.of("1", "2"), "--rtol"))
        .hasMessageContaining("--rtol given twice");
    assertThatThrownBy(() -> TensorBounds.parse(List.of("x:-1"), "--atol"))
        .hasMessageContaining(">= 0");
  }

  @Test
  void versionListsTheBackendsWithWhatTheyFound() {
    CliRun v = CliRun.of("--version");
    assertThat(v.exit()).isZero();
    assertThat(v.out())
        .startsWith("halfbisect 0.1.0-SNAPSHOT\nJava ")
        .contains("backends:")
        .containsPattern(
            "\\n  ort +ONNX Runtime 1\\.\\d+\\.\\d+ \\(CPU\\) \\[modes: fp32, fp16-emulated[,\\]]")
        .containsPattern("\\n  trt +(TensorRT|not available: )");
  }

  @Test
  void helpCommandAndCompletionScript() {
    CliRun h = CliRun.of("help", "compare");
    assertThat(h.exit()).isZero();
    assertThat(h.out()).contains("Usage: halfbisect compare", "--atol=[NAME:]A", "--load-inputs");
    assertThat(CliRun.of("help").out()).contains("completion", "help");
    CliRun c = CliRun.of("completion");
    assertThat(c.exit()).isZero();
    assertThat(c.out())
        .contains("complete -F _complete_halfbisect", "compare", "layerwise", "--candidate");
  }

  @Test
  void saveOutputsThenLoadOutputs() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    Path golden = tmp.resolve("golden.npz");
    assertThat(run("compare", model, "--save-outputs", golden.toString()).exit()).isEqualTo(1);
    assertThat(golden).isRegularFile();
    CliRun again = run("compare", model, "--load-outputs", golden.toString());
    assertThat(again.exit()).as(again.err()).isEqualTo(1);
    CliRun other = run("compare", model, "--load-outputs", golden.toString(), "--seed", "3");
    assertThat(other.exit()).isEqualTo(2);
    assertThat(other.errLine())
        .contains("golden.npz: saved outputs were computed from other inputs");
    CliRun missing = run("compare", model, "--load-outputs", tmp.resolve("no.npz").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.errLine()).contains("no.npz");
  }
}
