package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Engine inspector JSON recorded from TensorRT 10.6 on an H100 (overflow LayerNorm test model,
 * kDETAILED): one engine built FP16 with nothing pinned (Myelin kept everything FP32) and one built
 * FP16 with the seven LayerNorm nodes pinned (Myelin fused them with the unpinned scale and ran the
 * fused kernel with half I/O). The network layers were recorded from the same build.
 */
class RecordedInspectorTest {
  private static final List<String> LN =
      List.of("ln_mean", "ln_sub", "ln_pow", "ln_var", "ln_add_eps", "ln_sqrt", "ln_div");

  private static String resource(String name) throws IOException {
    try (InputStream in = RecordedInspectorTest.class.getResourceAsStream("/inspector/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Reads the recorded network layer table (index, name, type, float outputs, metadata). */
  private static List<NetworkLayer> network() throws IOException {
    List<NetworkLayer> out = new ArrayList<>();
    String[] lines = resource("overflow_ln.network.tsv").split("\n");
    for (int i = 1; i < lines.length; i++) {
      String[] f = lines[i].split("\t", -1);
      ImmutableList.Builder<Boolean> floats = ImmutableList.builder();
      for (char c : f[3].toCharArray()) {
        floats.add(c == '1');
      }
      out.add(new NetworkLayer(Integer.parseInt(f[0]), f[1], f[4], f[2], floats.build()));
    }
    return out;
  }

  @Test
  void parsesTheRecordedEngine() throws IOException {
    List<EngineLayer> layers =
        InspectorJson.parse(resource("overflow_ln-fp16-ln-pinned.engine.json"));
    assertThat(layers).hasSize(9);
    EngineLayer ln = layers.get(2);
    assertThat(ln.name()).isEqualTo("__myl_MulCasMeaSubMulMeaAddSqrDivMulCasCas_myl1_1");
    assertThat(ln.layerType()).isEqualTo("kgen");
    assertThat(ln.precision()).isEqualTo(EngineLayer.Precision.FP16);
    assertThat(LayerNames.fromMetadata(ln.metadata()))
        .containsExactlyInAnyOrder(
            "scale_mul",
            "ln_var",
            "ln_sub",
            "ln_pow",
            "ln_mean",
            "ln_div",
            "proj",
            "ln_sqrt",
            "ln_add_eps");
    assertThat(layers.get(0).precision())
        .isEqualTo(EngineLayer.Precision.MIXED); // Float -> Half reformat
    assertThat(layers.get(5).precision())
        .isEqualTo(EngineLayer.Precision.NO_FLOAT_IO); // int32 -> int64 casts
  }

  @Test
  void pinnedLayerNormFusedWithHalfIoIsReportedSwallowed() throws IOException {
    List<PlanCheck.NodeCheck> checks =
        PlanCheck.check(
            network(), InspectorJson.parse(resource("overflow_ln-fp16-ln-pinned.engine.json")), LN);
    assertThat(checks)
        .hasSize(7)
        .allSatisfy(
            c -> {
              assertThat(c.status()).isEqualTo(PlanCheck.Status.SWALLOWED);
              assertThat(c.engineLayers())
                  .contains("__myl_MulCasMeaSubMulMeaAddSqrDivMulCasCas_myl1_1");
              assertThat(c.warning()).contains(c.node(), "swallowed");
            });
    // one warning for the fused kernel, naming all seven nodes
    assertThat(PlanCheck.warnings(checks))
        .singleElement()
        .asString()
        .contains(
            "7 nodes (ln_mean, ln_sub, ln_pow",
            "__myl_MulCasMeaSubMulMeaAddSqrDivMulCasCas_myl1_1",
            "swallowed");
  }

  @Test
  void engineThatKeptTheLayerNormInFp32PassesTheCheck() throws IOException {
    List<PlanCheck.NodeCheck> checks =
        PlanCheck.check(
            network(), InspectorJson.parse(resource("overflow_ln-fp16-unpinned.engine.json")), LN);
    assertThat(checks).extracting(PlanCheck.NodeCheck::status).containsOnly(PlanCheck.Status.FP32);
    assertThat(checks).noneMatch(PlanCheck.NodeCheck::isWarning);
    // the projection is covered by its gemm layer, the helper casts by nothing pinned
    assertThat(
            PlanCheck.check(
                    network(),
                    InspectorJson.parse(resource("overflow_ln-fp16-unpinned.engine.json")),
                    List.of("proj_bias", "folded"))
                .get(1)
                .status())
        .isEqualTo(PlanCheck.Status.NOT_IN_ENGINE);
  }

  @Test
  void recordedRegionBoundsMapBackToNetworkLayers() throws IOException {
    EngineLayer region =
        new EngineLayer(
            "{ForeignNode[c_scale + ONNXTRT_Broadcast...positive]}",
            "Myelin",
            "",
            ImmutableList.of("Float"),
            ImmutableList.of("Float"));
    List<PlanCheck.NodeCheck> checks =
        PlanCheck.check(network(), List.of(region), List.of("ln_pow", "to_i32"));
    assertThat(checks.get(0).status())
        .isEqualTo(PlanCheck.Status.SWALLOWED); // region holds unpinned nodes
    assertThat(checks.get(1).status())
        .isEqualTo(PlanCheck.Status.NOT_IN_ENGINE); // after 'positive'
  }
}
