package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 15: the precision search's default cap and stop reasons; headroom extremes located. */
class SearchStopAndHeadroomTest {
  private static final ModelGraph PLANTED = TestModels.transformer(12, 5);
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(2);

  @Test
  void defaultOptionsCapTheSearchAt60Builds() {
    assertThat(PrecisionSearch.Options.defaults().maxSearchBuilds())
        .isEqualTo(PrecisionSearch.Options.DEFAULT_MAX_SEARCH_BUILDS)
        .isEqualTo(60);
    assertThat(PrecisionSearch.Options.unlimited().maxSearchBuilds()).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void stopReasonSaysWhyTheSearchEnded() {
    PrecisionSearch.Result pinned =
        PrecisionSearch.run(
            TestModels.context(PLANTED, new InterpreterBackend(), SAMPLES).build(),
            PrecisionSearch.Options.defaults());
    assertThat(pinned.stopReason())
        .isEqualTo("pinning the 2 nodes that overflow on their own is enough");
    PrecisionSearch.Result full =
        PrecisionSearch.run(
            TestModels.context(PLANTED, new InterpreterBackend(), SAMPLES).build(),
            PrecisionSearch.Options.defaults().withPinOverflows(false));
    assertThat(full.oneMinimal()).isTrue();
    assertThat(full.stopReason()).isEqualTo(PrecisionSearch.STOP_MINIMAL);

    InterpreterBackend b = new InterpreterBackend();
    PrecisionSearch.Result capped =
        PrecisionSearch.run(
            TestModels.context(PLANTED, b, SAMPLES).build(),
            PrecisionSearch.Options.unlimited().withMaxSearchBuilds(1).withPinOverflows(false));
    assertThat(capped.found()).isTrue();
    assertThat(capped.oneMinimal()).isFalse();
    assertThat(capped.stopReason())
        .startsWith("build cap of 1 reached: the best passing plan so far is kept");
    assertThat(capped.fp32Nodes()).contains(TestModels.plantUp(5), TestModels.plantDown(5));
    assertThat(capped.outputErrors().values()).allMatch(TensorComparison::pass);
  }

  @Test
  void headroomScanFindsTheSampleAndIndexOfTheExtreme() {
    Tensor a = Tensor.ofFloats(new long[] {1, 2, 3}, 1, 2, 3, 4, 5, 6);
    Tensor b = Tensor.ofFloats(new long[] {1, 2, 3}, 1, 40000, 3, 4, Float.POSITIVE_INFINITY, 6);
    Headroom.Extreme x =
        Headroom.scan("t", "n", "Pow", List.of(Map.of("t", a), Map.of("t", b)), 0.5).orElseThrow();
    assertThat(x.sample()).isEqualTo(1);
    assertThat(x.index()).containsExactly(0L, 0L, 1L);
    assertThat(x.maxAbs()).isEqualTo(40000);
    assertThat(x.margin()).isEqualTo(25504);
    assertThat(x.shareOfMax()).isEqualTo(40000 / 65504.0);
    assertThat(Headroom.scan("t", "n", "Pow", List.of(Map.of("t", b)), 0.7)).isEmpty();
    assertThat(Headroom.unravel(5, new long[] {2, 3})).containsExactly(1L, 2L);
    Tensor mask = Tensor.ofFloats(new long[] {1, 3}, -3.4e38f, 0, 33000);
    assertThat(
            Headroom.scan("m", "n", "Mul", List.of(Map.of("m", mask)), 0.5).orElseThrow().index())
        .as("an attention-mask fill is not a magnitude")
        .containsExactly(0L, 2L);
  }
}
