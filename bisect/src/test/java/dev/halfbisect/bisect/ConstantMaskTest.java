package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A BERT-style attention mask: a Constant fill of -3.4e38 (FP16 clamps it to -65504) times (1 -
 * keep), added to the scores. The constant and a tensor folded from it fail their own comparison,
 * but they are representation limits, not computation errors: every output passes, so layerwise
 * passes, lists them as unrepresentable constants, and first divergence never picks them. Runs on
 * {@code ort:fp16-emulated} (found through the SPI).
 */
class ConstantMaskTest {
  private static ModelGraph maskModel(boolean overflowAfter) {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, 4).input("keep", 1, 4);
    String fill = t.constant("mask_fill", -3.4e38f);
    String folded = t.node("Mul", "mask_fill_half", fill, t.scalar(0.5f)); // constant-foldable
    String inv = t.node("Sub", "inv", t.scalar(1f), "keep");
    String bias = t.node("Mul", "bias", inv, folded);
    String scores = t.node("Add", "scores", "x", bias);
    String out = overflowAfter ? t.node("Mul", "blowup", scores, t.scalar(3e5f)) : scores;
    t.output(t.node("Identity", "out", out));
    return t.graph("mask" + (overflowAfter ? "-overflow" : ""));
  }

  private static BisectContext context(ModelGraph g) {
    Backend ort = Backends.get("ort");
    Map<String, Tensor> sample =
        Map.of(
            "x",
            Tensor.ofFloats(new long[] {1, 4}, 0.5f, -1.25f, 2f, 0.75f),
            "keep",
            Tensor.ofFloats(new long[] {1, 4}, 1f, 1f, 1f, 1f));
    return BisectContext.builder(
            g, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
        .samples(List.of(sample))
        .build();
  }

  @Test
  void unrepresentableConstantsDoNotFailLayerwise() {
    ModelGraph g = maskModel(false);
    assertThat(g.constantTensors()).containsExactly("mask_fill", "mask_fill_half");
    Layerwise.Result r = Layerwise.run(context(g));
    assertThat(r.tensors())
        .filteredOn(row -> row.tensor().equals("mask_fill"))
        .singleElement()
        // FP16 clamps it to -65504: a saturated constant counts as equal (issue 15)
        .matches(row -> row.pass(), "the clamped constant compares equal");
    assertThat(r.verdict()).isEqualTo("pass");
    assertThat(r.outputsPass()).isTrue();
    assertThat(r.firstFailing()).isEmpty();
    assertThat(r.constants())
        .extracting(Layerwise.UnrepresentableConstant::tensor)
        .containsExactly("mask_fill", "mask_fill_half");
    Layerwise.UnrepresentableConstant c = r.constants().get(0);
    assertThat(c.node()).isEqualTo("mask_fill");
    assertThat(c.opType()).isEqualTo("Constant");
    assertThat(c.referenceMaxAbs()).isEqualTo(3.4e38f);
    assertThat(c.reason()).contains("65504");
    assertThat(r.constants().get(1).referenceMaxAbs()).isEqualTo(1.7e38f);
  }

  @Test
  void firstDivergenceSkipsConstants() {
    ModelGraph g = maskModel(true);
    BisectContext ctx = context(g);
    Layerwise.Result lw = Layerwise.run(ctx);
    assertThat(lw.verdict()).isEqualTo("fail");
    assertThat(lw.firstFailing().get().node()).isEqualTo("blowup");
    FirstDivergence.Result d = FirstDivergence.search(ctx);
    assertThat(d.divergence().get().node()).isEqualTo("blowup");
    assertThat(d.searchSpace()).isEqualTo(g.floatTensors().size() - 2);
  }
}
