package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.DType;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 20: {@code halfbisect perf} and the price block on ONNX Runtime (units, not numbers). */
class PerfCliTest {
  @TempDir Path tmp;
  private Path model;

  /** x[batch, 16] -> *300 -> ^2 (overflows FP16) -> *1e-4 -> + x. */
  @BeforeEach
  void writeModel() throws Exception {
    GraphBuilder g = GraphBuilder.create("dyn_overflow", 17);
    String x = g.dynamicInput("x", DType.FLOAT32, "batch", 16);
    String scaled = g.op("Mul").in(x, g.scalar(DType.FLOAT32, 300f)).name("scale").add1();
    String sq = g.op("Pow").in(scaled, g.scalar(DType.FLOAT32, 2f)).name("square").add1();
    String shrunk = g.op("Mul").in(sq, g.scalar(DType.FLOAT32, 1e-4f)).name("shrink").add1();
    g.output(g.op("Add").in(shrunk, x).name("out_add").add1(), "out");
    model = tmp.resolve("dyn.onnx");
    Files.write(model, g.buildProto().toByteArray());
  }

  @Test
  void perfOnOrtPrintsTheTableLabelledAsEmulationAndWritesJsonAndMarkdown() throws Exception {
    Path json = tmp.resolve("perf.json");
    Path md = tmp.resolve("perf.md");
    CliRun r =
        CliRun.of(
            "perf",
            model.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--input",
            "x:1x16:float32:-1..1",
            "--precisions",
            "fp32,tf32,fp16",
            "--batch",
            "1,8",
            "--warmup",
            "1",
            "--runs",
            "3",
            "--json",
            json.toString(),
            "--md",
            md.toString(),
            "--quiet");
    assertThat(r.exit()).as(r.err()).isEqualTo(1); // fp16 overflows: the fp16 rows fail
    assertThat(r.out())
        .contains("CPU emulation time, not FP16 speed")
        .contains("latency ms", "samples/s", "speed-up", "8x16")
        .contains("tf32 at batch 1 not measured: backend ort has no tf32 mode");
    JsonNode j = new ObjectMapper().readTree(Files.readString(json));
    assertThat(j.path("command").asText()).isEqualTo("perf");
    assertThat(j.path("fp16Speed").asBoolean()).isFalse();
    assertThat(j.path("backend").path("candidate").asText()).isEqualTo("ort");
    JsonNode fp16b8 = j.path("rows").get(5);
    assertThat(fp16b8.path("precision").asText()).isEqualTo("fp16");
    assertThat(fp16b8.path("batch").asInt()).isEqualTo(8);
    assertThat(fp16b8.path("mode").asText()).isEqualTo("ort:fp16-emulated");
    for (String f : new String[] {"latencyMs", "p90Ms", "throughput", "speedup"}) {
      assertThat(fp16b8.path(f).isNumber()).as(f).isTrue();
    }
    assertThat(fp16b8.path("meanRel").asText()).isEqualTo("Infinity"); // non-finite as strings
    assertThat(Files.readString(md)).contains("| precision | batch | shape | latency ms |");
  }

  @Test
  void perfOnAStaticBatchModelIsAUsageErrorNamingTheInput() throws Exception {
    Path fixed = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    CliRun r =
        CliRun.of(
            "perf",
            fixed.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--batch",
            "4",
            "--quiet");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.errLine()).contains("input x of").contains("static batch dimension of 1");
    assertThat(CliRun.of("perf", fixed.toString(), "--precisions", "int4").exit()).isEqualTo(2);
    assertThat(CliRun.of("perf", fixed.toString(), "--batch", "x").errLine())
        .contains("--batch: 'x' is not a whole number");
  }

  @Test
  void demoWithAModelPrintsTheFamilysTable() throws Exception {
    Path vit = tmp.resolve("my-vit.onnx");
    dev.halfbisect.examples.Examples.get("clip-vit").buildModel().save(vit);
    Path out = tmp.resolve("demo-out");
    CliRun r =
        CliRun.of(
            "demo",
            "--example",
            "clip-vit",
            "--model",
            vit.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--out",
            out.toString(),
            "--quiet");
    assertThat(r.exit()).as(r.err()).isIn(0, 1);
    assertThat(r.out())
        .contains("the clip-vit table on " + vit)
        .containsPattern("precision +batch +max abs +median rel +latency ms +speed-up")
        .contains("CPU emulation time, not FP16 speed");
    assertThat(Files.readString(out.resolve("table.md")))
        .contains("| precision | batch | max abs | median rel | latency ms | speed-up |");
    CliRun sr =
        CliRun.of(
            "demo",
            "--example",
            "unet",
            "--model",
            model.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--input",
            "x:2x16:float32:-1..1",
            "--quiet");
    assertThat(sr.out()).containsPattern("batch +width +height +latency ms +samples/s +max abs");
    assertThat(CliRun.of("demo", "--batch", "8").errLine()).contains("go with --model");
    assertThat(CliRun.of("demo", "--shape", "x:1x16").errLine())
        .contains("--batch, --input and --shape go with --model");
  }

  @Test
  void demoWithAModelTakesImageSizes() throws Exception {
    // a super-resolution-like export with dynamic height and width: the SR table per image size
    dev.halfbisect.onnx.builder.GraphBuilder g =
        dev.halfbisect.onnx.builder.GraphBuilder.create("sr_any", 17);
    String lr = g.dynamicInput("lr_image", dev.halfbisect.core.DType.FLOAT32, "batch", 3, "h", "w");
    String up = g.op("Mul").in(lr, g.scalar(dev.halfbisect.core.DType.FLOAT32, 2f)).add1();
    g.output(g.op("Add").in(up, lr).name("residual").add1(), "sr_image");
    Path sr = tmp.resolve("my-sr.onnx");
    Files.write(sr, g.buildProto().toByteArray());
    CliRun r =
        CliRun.of(
            "demo",
            "--example",
            "unet",
            "--model",
            sr.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--shape",
            "lr_image:1x3x8x12",
            "--shape",
            "lr_image:1x3x16x20",
            "--quiet");
    assertThat(r.exit()).as(r.err()).isIn(0, 1);
    assertThat(r.out())
        .containsPattern("batch +width +height")
        .containsPattern("fp16 +1 +12 +8 ")
        .containsPattern("fp16 +1 +20 +16 ");
    CliRun bad =
        CliRun.of(
            "demo", "--example", "unet", "--model", sr.toString(), "--shape", "lr_image:1x3x8");
    assertThat(bad.exit()).isEqualTo(2);
  }

  @Test
  void precisionPrintsThePriceUnlessNoPrice() {
    String[] base = {
      "precision",
      model.toString(),
      "--reference",
      "ort:fp32",
      "--candidate",
      "ort:fp16-emulated",
      "--input",
      "x:1x16:float32:-1..1",
      "--quiet",
      "--out",
      tmp.resolve("precision-out").toString()
    };
    CliRun priced = CliRun.of(base);
    assertThat(priced.exit()).as(priced.err()).isZero();
    assertThat(priced.out()).contains("Price (batch 1, CPU emulation time, not FP16 speed)");
    String[] skip = java.util.Arrays.copyOf(base, base.length + 1);
    skip[base.length] = "--no-price";
    CliRun unpriced = CliRun.of(skip);
    assertThat(unpriced.exit()).isZero();
    assertThat(unpriced.out()).doesNotContain("Price (");
  }

  @Test
  void planGivenAsPlanIsARowOfItsOwn() throws Exception {
    // perf took --plan and ignored it: no plan row, the fp16 rows unchanged
    Path plan = tmp.resolve("plan.json");
    Files.writeString(plan, "{\"fp32Nodes\": [\"square\", \"shrink\"]}");
    Path json = tmp.resolve("perf-plan.json");
    CliRun r =
        CliRun.of(
            "perf",
            model.toString(),
            "--reference",
            "ort:fp32",
            "--candidate",
            "ort:fp16-emulated",
            "--input",
            "x:1x16:float32:-1..1",
            "--precisions",
            "fp32,fp16",
            "--plan",
            plan.toString(),
            "--warmup",
            "1",
            "--runs",
            "2",
            "--json",
            json.toString(),
            "--quiet");
    JsonNode rows = new ObjectMapper().readTree(Files.readString(json)).path("rows");
    assertThat(rows.findValuesAsText("precision")).contains("plan:" + plan);
    for (JsonNode row : rows) {
      if (row.path("precision").asText().startsWith("plan:")) {
        assertThat(row.path("verdict").asText()).as(r.out()).isEqualTo("pass"); // pins fix it
      }
    }
  }
}
