package dev.halfbisect.core.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrecisionPlanTest {

  @Test
  void jsonRoundTripKeepsEverything() throws Exception {
    PrecisionPlan p =
        PrecisionPlan.fp16Except(List.of("/encoder/LayerNorm/Pow", "Add_3", "we,ird 'name'"))
            .withIoPolicy(PrecisionPlan.IoPolicy.FP16);
    String json = p.toJson();
    assertThat(json)
        .contains(
            "\"schema\" : \"halfbisect-plan/1\"",
            "\"defaultPrecision\" : \"fp16\"",
            "\"ioPolicy\" : \"fp16\"");
    // sorted names
    assertThat(json.indexOf("/encoder")).isLessThan(json.indexOf("Add_3"));
    PrecisionPlan back = PrecisionPlan.fromJson(json);
    assertThat(back).isEqualTo(p).hasSameHashCodeAs(p);
    assertThat(back.fp32Nodes())
        .containsExactly("/encoder/LayerNorm/Pow", "Add_3", "we,ird 'name'");
    assertThat(back.isFp16("Add_3")).isFalse();
    assertThat(back.isFp16("Mul_1")).isTrue();
    assertThat(PrecisionPlan.fromJson(PrecisionPlan.allFp32().toJson()))
        .isEqualTo(PrecisionPlan.allFp32());
    assertThat(PrecisionPlan.allFp32().isFp16("x")).isFalse();
  }

  @Test
  void readAndWriteFiles(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("plan.json");
    PrecisionPlan p = PrecisionPlan.allFp16().pin(List.of("a")).pin(List.of("b"));
    p.write(f);
    assertThat(PrecisionPlan.read(f)).isEqualTo(p);
    Files.writeString(f, "{\"fp32Nodes\": 3}");
    assertThatThrownBy(() -> PrecisionPlan.read(f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("fp32Nodes");
  }

  @Test
  void badJsonIsNamed() {
    assertThatThrownBy(() -> PrecisionPlan.fromJson("{")).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> PrecisionPlan.fromJson("[]")).hasMessageContaining("JSON object");
    assertThatThrownBy(() -> PrecisionPlan.fromJson("{\"defaultPrecision\":\"fp8\"}"))
        .hasMessageContaining("defaultPrecision")
        .hasMessageContaining("fp8");
    assertThatThrownBy(() -> PrecisionPlan.fromJson("{\"fp32Nodes\":[1]}"))
        .hasMessageContaining("non-string");
    assertThatThrownBy(() -> PrecisionPlan.fromJson("{\"fp32Nodes\":[\"\"]}"))
        .hasMessageContaining("empty node name");
    // a misspelt field meant no plan at all; another schema, someone else's file
    assertThatThrownBy(() -> PrecisionPlan.fromJson("{\"fp32Nodes\":[],\"fp32Nodez\":[\"a\"]}"))
        .hasMessage(
            "precision plan has an unknown field 'fp32Nodez' (its fields: [schema,"
                + " defaultPrecision, ioPolicy, fp32Nodes])");
    assertThatThrownBy(() -> PrecisionPlan.fromJson("{\"schema\":\"halfbisect-plan/9\"}"))
        .hasMessageStartingWith(
            "precision plan schema 'halfbisect-plan/9' is not halfbisect-plan/1");
    assertThatThrownBy(() -> PrecisionPlan.fromJson("{\n\"fp32Nodes\": [\"a\",]\n}"))
        .hasMessageStartingWith("precision plan is not valid JSON at line 2, column ")
        .hasMessageNotContaining("REDACTED");
    // defaults: fp16, keep_fp32, no pinned nodes
    assertThat(PrecisionPlan.fromJson("{}")).isEqualTo(PrecisionPlan.allFp16());
    assertThat(PrecisionPlan.fromJson("{\"ioPolicy\":\"keep-fp32\"}"))
        .isEqualTo(PrecisionPlan.allFp16());
  }

  @Test
  void trtexecFlags() {
    assertThat(PrecisionPlan.allFp16().toTrtexecFlags()).isEqualTo("--fp16 --noTF32");
    assertThat(PrecisionPlan.allFp32().toTrtexecFlags()).isEqualTo("--noTF32");
    assertThat(PrecisionPlan.fp16Except(List.of("Pow_1", "/enc/ReduceMean")).toTrtexecFlags())
        .isEqualTo(
            "--fp16 --noTF32 --precisionConstraints=obey --layerPrecisions=/enc/ReduceMean:fp32,Pow_1:fp32");
    // a comma in a name is quoted for trtexec and the whole list for the shell
    assertThat(PrecisionPlan.fp16Except(List.of("a,b", "c d")).toTrtexecFlags())
        .isEqualTo(
            "--fp16 --noTF32 --precisionConstraints=obey --layerPrecisions='\"a,b\":fp32,c d:fp32'");
    assertThat(PrecisionPlan.fp16Except(List.of("it's")).toTrtexecFlags())
        .isEqualTo("--fp16 --noTF32 --precisionConstraints=obey --layerPrecisions='it'\\''s:fp32'");
  }
}
