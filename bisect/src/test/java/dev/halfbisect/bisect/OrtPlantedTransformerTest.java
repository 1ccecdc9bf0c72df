package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The planted 12-block transformer on the project's ORT backend ({@code ort:fp32} against {@code
 * ort:fp16-emulated}, found through the SPI): the searches agree with the interpreter.
 */
class OrtPlantedTransformerTest {
  private static final int PLANT = 6;

  private static BisectContext context(ModelGraph g) {
    Backend ort = Backends.get("ort");
    return BisectContext.builder(
            g, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
        .samples(TestModels.transformerSamples(2))
        .build();
  }

  @Test
  void bisectAndPrecisionSearchFindThePlant() {
    ModelGraph g = TestModels.transformer(12, PLANT);
    BisectContext ctx = context(g);
    FirstDivergence.Result d = FirstDivergence.search(ctx);
    assertThat(d.divergence().get().node()).isEqualTo(TestModels.plantUp(PLANT));
    assertThat(d.candidateBuilds())
        .isLessThanOrEqualTo(FirstDivergence.ceilLog2(g.floatNodes().size()) + 1);

    PrecisionSearch.Result p = PrecisionSearch.run(ctx);
    assertThat(p.found()).isTrue();
    assertThat(p.oneMinimal()).isTrue();
    assertThat(p.fp32Nodes()).contains(TestModels.plantUp(PLANT), TestModels.plantDown(PLANT));
    BisectContext fresh = context(g);
    assertThat(
            fresh
                .prober()
                .probe(ProbeSpec.full(ProbeSpec.Side.CANDIDATE, p.plan(), g.graphOutputs()))
                .passes())
        .isTrue();
    for (String n : p.fp32Nodes()) {
      List<String> less = new ArrayList<>(p.fp32Nodes());
      less.remove(n);
      assertThat(
              fresh
                  .prober()
                  .probe(
                      ProbeSpec.full(
                          ProbeSpec.Side.CANDIDATE,
                          PrecisionPlan.fp16Except(less),
                          g.graphOutputs()))
                  .passes())
          .as("without %s", n)
          .isFalse();
    }
  }
}
