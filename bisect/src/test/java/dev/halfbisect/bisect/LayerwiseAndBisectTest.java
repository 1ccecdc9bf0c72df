package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerwiseAndBisectTest {
  private static final ModelGraph PLANTED = TestModels.transformer(12, 7);

  @Test
  void healthyTransformerPassesEverywhere() {
    InterpreterBackend b = new InterpreterBackend();
    ModelGraph g = TestModels.transformer(12, -1);
    BisectContext ctx = TestModels.context(g, b, TestModels.transformerSamples(2)).build();
    Layerwise.Result r = Layerwise.run(ctx);
    assertThat(r.outputsPass()).isTrue();
    assertThat(r.firstFailing()).isEmpty();
    assertThat(r.tensors()).hasSize(g.floatTensors().size());
    FirstDivergence.Result d = FirstDivergence.search(ctx);
    assertThat(d.divergence()).isEmpty();
    assertThat(d.verdict()).isEqualTo("pass");
  }

  @Test
  void layerwiseFindsPlantedOverflowAndChunkSizeDoesNotMatter() {
    InterpreterBackend b = new InterpreterBackend();
    Layerwise.Result big =
        Layerwise.run(TestModels.context(PLANTED, b, TestModels.transformerSamples(2)).build());
    assertThat(big.outputsPass()).isFalse();
    assertThat(big.firstFailing())
        .get()
        .extracting(Layerwise.TensorReport::node)
        .isEqualTo(TestModels.plantUp(7));
    assertThat(big.candidateBuilds()).isEqualTo(1);

    Layerwise.Result small =
        Layerwise.run(
            TestModels.context(PLANTED, new InterpreterBackend(), TestModels.transformerSamples(2))
                .maxChunkTensors(7)
                .build());
    assertThat(small.candidateBuilds()).isEqualTo((PLANTED.floatTensors().size() + 6) / 7);
    assertThat(small.firstFailing().get().tensor()).isEqualTo(big.firstFailing().get().tensor());
    assertThat(small.tensors()).hasSameSizeAs(big.tensors());
    for (int i = 0; i < big.tensors().size(); i++) {
      assertThat(small.tensors().get(i).tensor()).isEqualTo(big.tensors().get(i).tensor());
      assertThat(small.tensors().get(i).error()).isEqualTo(big.tensors().get(i).error());
    }
    assertThat(big.note()).as("the fusion caveat is for TensorRT candidates").isNull();
    // Two samples: per-sample statistics kept, worst case over them.
    Layerwise.TensorReport first = big.firstFailing().get();
    assertThat(first.error().perSample()).hasSize(2);
    assertThat(first.error().worstStats().samples()).isEqualTo(2);
    assertThat(first.error().worstStats().nonFiniteWhereRefFinite()).isPositive();
  }

  @Test
  void layerwiseKeepsNoReferenceValuesBeyondItsChunkWithoutACacheBudget() {
    BisectContext ctx =
        TestModels.context(PLANTED, new InterpreterBackend(), TestModels.transformerSamples(2))
            .maxChunkTensors(7)
            .referenceCacheBytes(0)
            .build();
    Layerwise.Result r = Layerwise.run(ctx);
    int chunks = (PLANTED.floatTensors().size() + 6) / 7;
    // One reference build per chunk, observing the same tensors as the chunk's candidate build.
    assertThat(ctx.prober().referenceBuilds()).isEqualTo(chunks);
    assertThat(r.candidateBuilds()).isEqualTo(chunks);
    // The values were dropped after their chunk: asking for one again runs the reference again.
    String failing = r.firstFailing().get().tensor();
    assertThat(ctx.prober().reference(List.of(failing)).get(0)).containsKey(failing);
    assertThat(ctx.prober().referenceBuilds()).isEqualTo(chunks + 1);
  }

  @Test
  void laterStrategiesReuseLayerwiseReferenceValuesWithinTheCacheBudget() {
    BisectContext ctx =
        TestModels.context(PLANTED, new InterpreterBackend(), TestModels.transformerSamples(2))
            .maxChunkTensors(7)
            .build();
    Layerwise.run(ctx);
    int afterLayerwise = ctx.prober().referenceBuilds();
    Amplification.analyze(ctx);
    assertThat(ctx.prober().referenceBuilds())
        .as("amplification needs every float tensor's reference")
        .isEqualTo(afterLayerwise);

    // A budget of one tensor's worth keeps only the first chunk's first tensor.
    long oneTensor = 2L * 4 * TestModels.SEQ * TestModels.HIDDEN;
    BisectContext tight =
        TestModels.context(PLANTED, new InterpreterBackend(), TestModels.transformerSamples(2))
            .maxChunkTensors(7)
            .referenceCacheBytes(oneTensor)
            .build();
    Layerwise.run(tight);
    int before = tight.prober().referenceBuilds();
    Amplification.analyze(tight);
    assertThat(tight.prober().referenceBuilds()).isGreaterThan(before);
  }

  @Test
  void failedBuildsAreSplitAndUnobservableTensorsReported() {
    InterpreterBackend b = new InterpreterBackend();
    b.maxObserved(10);
    b.unobservable("b3/gelu/erf");
    Layerwise.Result r =
        Layerwise.run(TestModels.context(PLANTED, b, TestModels.transformerSamples(1)).build());
    assertThat(r.unobserved()).containsOnlyKeys("b3/gelu/erf");
    assertThat(r.unobserved().get("b3/gelu/erf")).contains("cannot observe");
    assertThat(r.tensors()).hasSize(PLANTED.floatTensors().size() - 1);
    assertThat(r.firstFailing().get().node()).isEqualTo(TestModels.plantUp(7));
  }

  /**
   * Builds observing more than 8 tensors fail (TensorRT's "no implementation" on Swin-T with many
   * marked outputs): the first chunk of 32 fails, its first half of 16 fails, that half's halves
   * build, and from then on every chunk is built at 8 or fewer, where each chunk used to fail, and
   * both its halves, before its quarters built (42 builds for 6 chunks).
   */
  @Test
  void buildsThatFailForTheirSizeTeachTheChunkSize() {
    for (int jobs : List.of(1, 4)) {
      InterpreterBackend b = new InterpreterBackend().maxObserved(8);
      BisectContext ctx =
          TestModels.context(PLANTED, b, TestModels.transformerSamples(1))
              .maxChunkTensors(32)
              .parallelism(jobs)
              .build();
      Layerwise.Result r = Layerwise.run(ctx);
      int n = PLANTED.floatTensors().size();
      int chunks = ctx.chunks().tensors(PLANTED.floatTensors()).size();
      assertThat(r.unobserved()).isEmpty();
      assertThat(r.tensors()).hasSize(n);
      assertThat(r.firstFailing().get().node()).isEqualTo(TestModels.plantUp(7));
      assertThat(ctx.prober().chunkCap()).hasValue(8);
      int failedOnce = 2 * jobs; // the first round's chunks, then as many halves
      assertThat(b.fp16Builds())
          .as("jobs %s", jobs)
          .isLessThanOrEqualTo(failedOnce + (n + 6) / 7)
          .isLessThan(7 * chunks);
    }
  }

  @Test
  void firstDivergenceNamesPlantedNodeWithinBuildBound() {
    for (int plant : List.of(0, 3, 7, 11)) {
      InterpreterBackend b = new InterpreterBackend();
      ModelGraph g = TestModels.transformer(12, plant);
      FirstDivergence.Result r =
          FirstDivergence.search(
              TestModels.context(g, b, TestModels.transformerSamples(2)).build());
      assertThat(r.divergence())
          .get()
          .extracting(FirstDivergence.Divergence::node)
          .isEqualTo(TestModels.plantUp(plant));
      assertThat(r.divergence().get().opType()).isEqualTo("Mul");
      assertThat(r.divergence().get().outputError().pass()).isFalse();
      assertThat(r.divergence().get().inputErrors()).isNotEmpty().allMatch(TensorComparison::pass);
      int bound = FirstDivergence.ceilLog2(g.floatNodes().size()) + 1;
      assertThat(r.candidateBuilds()).isEqualTo(b.fp16Builds()).isLessThanOrEqualTo(bound);
      assertThat(r.buildBound()).isEqualTo(bound);
    }
  }
}
