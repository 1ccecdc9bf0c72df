package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TimingRequest;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.report.model.PerfRow;
import dev.halfbisect.report.render.PerfTable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 20: {@code perf} shape sets through the facade (shapes and errors, not timings). */
class PerfShapesTest {
  private static final PerfOptions FAST =
      PerfOptions.defaults()
          .withPrecisions(List.of("fp32", "fp16"))
          .withTiming(new TimingRequest(0, 1));

  private static final ShapeSet SMALL = ShapeSet.of("image", 1, 3, 4, 6);
  private static final ShapeSet LARGE = ShapeSet.of("image", 1, 3, 8, 10);

  /** image[batch, 3, h, w] * gain[batch, 1, h, w] + image; the 3 of the channels is fixed. */
  static OnnxModel imageModel() {
    GraphBuilder g = GraphBuilder.create("gained_image", 17);
    String image = g.dynamicInput("image", DType.FLOAT32, "batch", 3, "h", "w");
    String gain = g.dynamicInput("gain", DType.FLOAT32, "batch", 1, "h", "w");
    String scaled = g.op("Mul").in(image, gain).name("apply_gain").add1();
    g.output(g.op("Add").in(scaled, image).name("residual").add1(), "out");
    return g.build();
  }

  private static HalfBisect hb() {
    return HalfBisect.model(imageModel())
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .input("image:1x3x2x2:float32:0..1");
  }

  @Test
  void twoShapeSetsTimesTwoBatchesGiveFourRowsPerPrecisionAtTheirShapes() throws Exception {
    PerfResult r = hb().perf(FAST.withBatches(List.of(1, 2)).withShapes(List.of(SMALL, LARGE)));

    assertThat(r.rows()).hasSize(8).allMatch(PerfRow::measured);
    assertThat(r.rows())
        .extracting(PerfRow::precision, PerfRow::batch, row -> row.shapes().get("image"))
        .containsExactly(
            tuple("fp32", 1, "1x3x4x6"),
            tuple("fp16", 1, "1x3x4x6"),
            tuple("fp32", 2, "2x3x4x6"),
            tuple("fp16", 2, "2x3x4x6"),
            tuple("fp32", 1, "1x3x8x10"),
            tuple("fp16", 1, "1x3x8x10"),
            tuple("fp32", 2, "2x3x8x10"),
            tuple("fp16", 2, "2x3x8x10"));
    // gain is derived; its symbolic h and w follow the image's shape set, batch replaces dim 0
    assertThat(r.row("fp16", 2, LARGE).orElseThrow().shapes())
        .containsEntry("image", "2x3x8x10")
        .containsEntry("gain", "2x1x8x10");
    assertThat(r.row("fp16", 1, SMALL).orElseThrow().shapes()).containsEntry("gain", "1x1x4x6");
    for (PerfRow row : r.rows()) {
      assertThat(row.latencyMs()).isPositive();
      assertThat(row.maxAbs()).isNotNull();
      assertThat(row.medianRel()).isNotNull();
      assertThat(row.speedup()).isNotNull();
    }
    // the speed-up's base is FP32 at the same shape set and batch
    PerfRow fp16 = r.row("fp16", 1, LARGE).orElseThrow();
    assertThat(fp16.speedup())
        .isEqualTo(r.row("fp32", 1, LARGE).orElseThrow().latencyMs() / fp16.latencyMs());
    assertThat(r.rows().get(0).maxAbs()).isZero();

    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertThat(j.path("rows").get(7).path("shapes").path("image").asText()).isEqualTo("2x3x8x10");
    assertThat(j.path("rows").get(7).path("shapes").path("gain").asText()).isEqualTo("2x1x8x10");
    assertThat(j.path("builds").asInt()).isEqualTo(8);
    assertThat(r.table()).contains("gain:2x1x8x10,image:2x3x8x10");
    // sr: width and height from the image-like input's last two dims
    assertThat(r.markdown(PerfTable.Layout.SR)).contains("| fp16 | 2 | 10 | 8 |");
  }

  @Test
  void withoutShapesTheInputsOwnShapeIsUsedAndTheSpecsFillIsKeptAtANewShape() {
    PerfResult plain = hb().perf(FAST);
    assertThat(plain.rows()).hasSize(2);
    assertThat(plain.rows().get(0).shapes()).containsEntry("image", "1x3x2x2");
    assertThat(plain.report().warnings()).anyMatch(w -> w.contains("gain:1x1x2x2:float32"));

    PerfResult shaped = hb().perf(FAST.withShapes(List.of(ShapeSet.of("image", 2, 3, 5, 5))));
    assertThat(shaped.rows()).extracting(PerfRow::batch).containsExactly(2, 2);
    assertThat(shaped.rows().get(0).shapes()).containsEntry("gain", "2x1x5x5");
    assertThat(shaped.report().warnings())
        .anyMatch(w -> w.contains("gain:2x1x5x5:float32"))
        .noneMatch(w -> w.contains("1x1x2x2"));
  }

  @Test
  void shapeSetsThatDoNotFitTheModelAreUsageErrorsNamingInputDimAndDeclaration() {
    assertUsage(
        ShapeSet.of("picture", 1, 3, 4, 4),
        "model gained_image has no input 'picture'",
        "image float32 [batch, 3, h, w]");
    assertUsage(
        ShapeSet.of("image", 1, 3, 4),
        "input image is given 3 dims but the model declares 4",
        "image float32 [batch, 3, h, w]");
    assertUsage(
        ShapeSet.of("image", 1, 4, 4, 4),
        "dim 1 of input image is 4 but the model fixes it at 3",
        "image float32 [batch, 3, h, w]");
    assertUsage(
        ShapeSet.of("image", 1, 3, 0, 4),
        "dim 2 of input image is 0, dims must be >= 1",
        "image float32 [batch, 3, h, w]");
    assertUsage(
        ShapeSet.of("image", 1, 3, 4, 4).and("gain", 1, 1, 4),
        "input gain is given 3 dims but the model declares 4",
        "gain float32 [batch, 1, h, w]");
  }

  @Test
  void givenDataOfAnotherShapeIsRefusedAndOfTheSameShapeIsUsed() {
    long[] shape = {1, 3, 2, 2};
    float[] values = new float[12];
    Arrays.fill(values, 0.5f);
    HalfBisect given = hb().inputs(Map.of("image", Tensor.ofFloats(shape, values)));
    assertThatThrownBy(() -> given.perf(FAST.withShapes(List.of(SMALL))))
        .isInstanceOf(HalfBisectException.class)
        .satisfies(
            e ->
                assertThat(((HalfBisectException) e).kind())
                    .isEqualTo(HalfBisectException.Kind.USAGE))
        .hasMessageContaining("--shape image:1x3x4x6: input image is loaded data of shape 1x3x2x2")
        .hasMessageContaining("does not invent data");
    PerfResult same = given.perf(FAST.withShapes(List.of(ShapeSet.of("image", 1, 3, 2, 2))));
    assertThat(same.rows()).hasSize(2);
  }

  @Test
  void shapeSetsParseTheCliSyntaxAndRefuseMalformedText() {
    assertThat(ShapeSet.parse("image:1x3x4x6")).isEqualTo(SMALL);
    assertThat(ShapeSet.parse("image:1x3x4x6, gain:1x1x4x6"))
        .isEqualTo(SMALL.and("gain", 1, 1, 4, 6))
        .hasToString("image:1x3x4x6,gain:1x1x4x6");
    assertThatThrownBy(() -> ShapeSet.parse("image:1x3xax6"))
        .hasMessageContaining("dim 2 of input image is 'a', not a whole number");
    assertThatThrownBy(() -> ShapeSet.parse("image"))
        .hasMessageContaining("'image' is not NAME:DIMS");
    assertThatThrownBy(() -> ShapeSet.parse("image:1x3x4x6,image:1x3x8x8"))
        .hasMessageContaining("input image is named twice")
        .hasMessageContaining("repeat --shape");
  }

  private static void assertUsage(ShapeSet s, String... parts) {
    assertThatThrownBy(() -> hb().perf(FAST.withShapes(List.of(SMALL, s))))
        .isInstanceOf(HalfBisectException.class)
        .satisfies(
            e ->
                assertThat(((HalfBisectException) e).kind())
                    .isEqualTo(HalfBisectException.Kind.USAGE))
        .hasMessageContaining("--shape " + s + ": ")
        .hasMessageContaining(parts[0])
        .hasMessageContaining(parts[1])
        .hasMessageNotContaining("\n");
  }
}
