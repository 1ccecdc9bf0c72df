package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npz;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 20: {@code halfbisect perf --shape} on ONNX Runtime (shapes and errors, not timings). */
class PerfShapeCliTest {
  @TempDir Path tmp;
  private Path model;

  /** image[batch, 3, h, w] * gain[batch, 1, h, w] + image; the 3 of the channels is fixed. */
  @BeforeEach
  void writeModel() throws Exception {
    GraphBuilder g = GraphBuilder.create("gained_image", 17);
    String image = g.dynamicInput("image", DType.FLOAT32, "batch", 3, "h", "w");
    String gain = g.dynamicInput("gain", DType.FLOAT32, "batch", 1, "h", "w");
    String scaled = g.op("Mul").in(image, gain).name("apply_gain").add1();
    g.output(g.op("Add").in(scaled, image).name("residual").add1(), "out");
    model = tmp.resolve("gained.onnx");
    Files.write(model, g.buildProto().toByteArray());
  }

  private CliRun perf(String... more) {
    List<String> args =
        new ArrayList<>(List.of("--precisions", "fp32,fp16", "--warmup", "0", "--runs", "1"));
    args.addAll(Arrays.asList(more));
    return CliRun.analyse("perf", model, "ort:fp32", "ort:fp16-emulated", args);
  }

  @Test
  void twoShapesTimesTwoBatchesPrintTheShapeColumnAndWriteTheShapesToJson() throws Exception {
    Path json = tmp.resolve("perf.json");
    CliRun r =
        perf(
            "--input",
            "image:1x3x2x2:float32:0..1",
            "--shape",
            "image:1x3x4x6",
            "--shape",
            "image:1x3x8x10",
            "--batch",
            "1,2",
            "--json",
            json.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("shape")
        .contains("gain:1x1x4x6,image:1x3x4x6")
        .contains("gain:2x1x8x10,image:2x3x8x10")
        .doesNotContain("1x3x2x2");
    JsonNode rows = new ObjectMapper().readTree(Files.readString(json)).path("rows");
    assertThat(rows).hasSize(8);
    assertThat(rows.get(2).path("batch").asInt()).isEqualTo(2);
    assertThat(rows.get(2).path("shapes").path("image").asText()).isEqualTo("2x3x4x6");
    assertThat(rows.get(5).path("precision").asText()).isEqualTo("fp16");
    assertThat(rows.get(5).path("shapes").path("image").asText()).isEqualTo("1x3x8x10");
    assertThat(rows.get(5).path("shapes").path("gain").asText()).isEqualTo("1x1x8x10");
    assertThat(rows.get(5).path("latencyMs").isNumber()).isTrue();

    CliRun sr = perf("--shape", "image:1x3x8x10,gain:1x1x8x10", "--layout", "sr");
    assertThat(sr.exit()).as(sr.err()).isZero();
    assertThat(sr.out()).containsPattern("batch +width +height").containsPattern("fp16 +1 +10 +8 ");
  }

  @Test
  void shapesThatDoNotFitTheModelAreOneLineUsageErrors() {
    assertUsage(
        perf("--shape", "picture:1x3x4x4"),
        "gained.onnx has no input 'picture'; its inputs are image float32 [batch, 3, h, w], gain");
    assertUsage(
        perf("--shape", "image:1x3x4"),
        "input image is given 3 dims but the model declares 4: image float32 [batch, 3, h, w]");
    assertUsage(
        perf("--shape", "image:1x4x4x4"),
        "dim 1 of input image is 4 but the model fixes it at 3: image float32 [batch, 3, h, w]");
    assertUsage(perf("--shape", "image:1x3x0x4"), "dim 2 of input image is 0, dims must be >= 1");
    assertUsage(
        perf("--shape", "image:1x3xfourx4"),
        "--shape image:1x3xfourx4: dim 2 of input image is 'four', not a whole number");
    assertUsage(perf("--shape", "image"), "'image' is not NAME:DIMS");
    assertUsage(perf("--shape", "image:1x3x4x4,image:1x3x8x8"), "input image is named twice");
  }

  @Test
  void loadedInputsMustAlreadyHaveTheShape() throws Exception {
    float[] values = new float[12];
    Arrays.fill(values, 0.25f);
    Path npz = tmp.resolve("inputs.npz");
    Npz.write(npz, Map.of("image", Tensor.ofFloats(new long[] {1, 3, 2, 2}, values)));
    assertUsage(
        perf("--load-inputs", npz.toString(), "--shape", "image:1x3x4x4"),
        "input image is loaded data of shape 1x3x2x2 and halfbisect does not invent data");
    CliRun same = perf("--load-inputs", npz.toString(), "--shape", "image:1x3x2x2");
    assertThat(same.exit()).as(same.err()).isZero();
    assertThat(same.out()).contains("gain:1x1x2x2,image:1x3x2x2");
  }

  private static void assertUsage(CliRun r, String message) {
    assertThat(r.exit()).as(r.err()).isEqualTo(2);
    assertThat(r.errLine()).contains(message).doesNotContain("\n");
  }
}
