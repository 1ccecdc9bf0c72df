package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Plan check over hand-made engine descriptions of each fusion form. */
class PlanCheckTest {
  private static NetworkLayer nl(int i, String name) {
    return new NetworkLayer(
        i, name, "[ONNX Layer: " + name + "]", "kELEMENTWISE", ImmutableList.of(true));
  }

  private static EngineLayer el(String name, String meta, String in, String out) {
    return new EngineLayer(name, "x", meta, ImmutableList.of(in), ImmutableList.of(out));
  }

  private final List<NetworkLayer> network =
      List.of(nl(0, "a"), nl(1, "b"), nl(2, "c"), nl(3, "d"), nl(4, "e"));

  @Test
  void fp32LayerCoveringOnlyPinnedNodesIsFp32() {
    var checks =
        PlanCheck.check(
            network,
            List.of(el("a + b", "", "Row major linear FP32", "Row major linear FP32")),
            List.of("a", "b"));
    assertThat(checks)
        .extracting(PlanCheck.NodeCheck::status)
        .containsExactly(PlanCheck.Status.FP32, PlanCheck.Status.FP32);
    assertThat(checks.get(0).isWarning()).isFalse();
  }

  @Test
  void fusionWithFp16WorkIsSwallowedAndWarned() {
    var checks =
        PlanCheck.check(
            network,
            List.of(el("PWN(b, c)", "", "Row major linear FP32", "Row major linear FP16 format")),
            List.of("b"));
    assertThat(checks.get(0).status()).isEqualTo(PlanCheck.Status.SWALLOWED);
    assertThat(checks.get(0).warning()).contains("swallowed", "PWN(b, c)");
  }

  @Test
  void myelinRegionMixingPinnedAndUnpinnedNodesIsSwallowedEvenWithFp32Io() {
    var checks =
        PlanCheck.check(
            network,
            List.of(
                el("{ForeignNode[b...d]}", "", "Row major linear FP32", "Row major linear FP32")),
            List.of("c"));
    assertThat(checks.get(0).status()).isEqualTo(PlanCheck.Status.SWALLOWED);
    assertThat(checks.get(0).engineLayers()).containsExactly("{ForeignNode[b...d]}");
  }

  @Test
  void halfLayerOfOnlyThePinnedNodeIsFp16AndMissingNodeIsNotInEngine() {
    var checks =
        PlanCheck.check(
            network, List.of(el("e", "[ONNX Layer: e]", "Half", "Half")), List.of("e", "gone"));
    assertThat(checks)
        .extracting(PlanCheck.NodeCheck::status)
        .containsExactly(PlanCheck.Status.FP16, PlanCheck.Status.NOT_IN_ENGINE);
    assertThat(checks.get(0).warning()).contains("runs in FP16");
    assertThat(checks.get(1).isWarning()).isFalse();
  }

  @Test
  void metadataMapsHelperLayersBackToTheirNode() {
    var checks =
        PlanCheck.check(
            network,
            List.of(
                el(
                    "ONNXTRT_helper_7",
                    "[ONNX Layer: d]",
                    "Row major linear FP32",
                    "Row major linear FP32")),
            List.of("d"));
    assertThat(checks.get(0).status()).isEqualTo(PlanCheck.Status.FP32);
  }

  @Test
  void inspectorJsonFormsParse() {
    String json =
        "{\"Layers\": [{\"Name\": \"a + b\", \"LayerType\": \"PointWiseV2\", \"Metadata\": \"[ONNX Layer: a]\\u001e[ONNX Layer: b]\","
            + "\"Inputs\": [{\"Name\": \"x\", \"Format/Datatype\": \"Row major linear FP32\"}],"
            + "\"Outputs\": [{\"Name\": \"y\", \"Format/Datatype\": \"Row major linear FP16 format\"}]}, \"plain\"],"
            + "\"Bindings\": [\"x\", \"y\"]}";
    List<EngineLayer> layers = InspectorJson.parse(json);
    assertThat(layers).hasSize(2);
    assertThat(layers.get(0).precision()).isEqualTo(EngineLayer.Precision.MIXED);
    assertThat(LayerNames.fromMetadata(layers.get(0).metadata())).containsExactly("a", "b");
    assertThat(layers.get(1).name()).isEqualTo("plain");
    assertThat(InspectorJson.parse("{\"Name\": \"one\", \"Inputs\": []}")).hasSize(1);
    assertThatThrownBy(() -> InspectorJson.parse("[1,2]")).hasMessageContaining("neither");
    assertThatThrownBy(() -> InspectorJson.parse("{")).hasMessageContaining("not valid JSON");
  }
}
