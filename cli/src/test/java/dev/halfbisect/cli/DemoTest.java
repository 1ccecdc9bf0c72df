package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code halfbisect demo} end to end on ONNX Runtime FP16 emulation (what a machine without a GPU
 * runs).
 */
class DemoTest {
  @TempDir Path tmp;

  @Test
  void demoFindsTheLayerNormOverflowAndTheFix() throws Exception {
    try {
      Backends.resolve(BackendSpec.parse("ort:fp16-emulated"))
          .open(DemoModels.timesformerBlock().toModelRef(), BuildOptions.of("fp16-emulated"))
          .close();
    } catch (Exception e) {
      Assumptions.assumeTrue(false, "ort:fp16-emulated unavailable: " + e.getMessage());
    }
    Path out = tmp.resolve("demo");
    CliRun r =
        CliRun.of(
            "demo",
            "--example",
            "timesformer-block",
            "--out",
            out.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--quiet");
    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains("FAIL", "norm1/Pow", "overflow", "--layerPrecisions=", "HTML report:");
    JsonNode j = new ObjectMapper().readTree(out.resolve("report.json").toFile());
    assertThat(j.path("command").asText()).isEqualTo("diagnose");
    assertThat(j.path("firstFailing").path("node").asText()).isEqualTo("norm1/Pow");
    assertThat(j.path("fp32Nodes").toString()).contains("norm1/Pow");
    for (String f :
        List.of(
            "report.html",
            "report.md",
            "plan.json",
            "trtexec-flags.txt",
            "model-fp16.onnx",
            "model.onnx")) {
      assertThat(out.resolve(f)).isRegularFile();
    }
    try (Stream<Path> s = Files.walk(tmp)) {
      assertThat(
              s.filter(Files::isRegularFile)
                  .filter(p -> !p.startsWith(out))
                  .collect(Collectors.toList()))
          .isEmpty();
    }
  }
}
