package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: ddmin over a plan whose needed nodes are spread over its parts (the planted
 * TimeSformer's outputs-only search: 6 nodes in 3 blocks' LayerNorms, 144 to shrink) tests
 * complements only once every part of a partition has failed alone, sweeps the parts' complements
 * once instead of starting over after each removal, and keeps the answer.
 */
class DdminSpreadTest {
  private static final ModelGraph G = TestModels.transformer(12, 7);
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(1);

  /** Builds and rounds of one ddmin, and what it kept. */
  private record Shrink(List<String> kept, int builds, int rounds) {}

  @Test
  void spreadNeedsCostFewerBuildsAndRoundsAndKeepTheAnswer() {
    List<String> plan = G.floatNodes().subList(0, 144);
    // two nodes in each of three places, as the TimeSformer's Pow and ReduceMean_1 of 3 norms
    Set<String> needed =
        IntStream.of(70, 72, 110, 112, 140, 142).mapToObj(plan::get).collect(Collectors.toSet());
    Shrink one = shrink(plan, 1, needed);
    Shrink four = shrink(plan, 4, needed);
    assertThat(one.kept()).containsExactlyInAnyOrderElementsOf(needed);
    assertThat(four.kept()).containsExactlyInAnyOrderElementsOf(needed);
    // 62 builds one at a time, 106 in 32 rounds with k = 4. Starting over at n - 1 after each
    // removal: 93, and 130 in 38 rounds; with every partition's subsets tested again as well (the
    // code of 2026-12-07): 141, and 178 in 51 rounds
    assertThat(one.builds()).isLessThanOrEqualTo(70);
    assertThat(four.builds()).isLessThanOrEqualTo(115);
    assertThat(four.rounds()).isLessThanOrEqualTo(35);
  }

  @Test
  void needsInOnePartStillShrinkBySubsets() {
    List<String> plan = G.floatNodes().subList(0, 64);
    Set<String> needed = Set.of(plan.get(3), plan.get(5));
    Shrink one = shrink(plan, 1, needed);
    assertThat(one.kept()).containsExactlyInAnyOrderElementsOf(needed);
    // halves, then quarters, ... down to the needed pair: about 2 builds a halving, then DropEach
    assertThat(one.builds()).isLessThanOrEqualTo(20);
  }

  private static Shrink shrink(List<String> plan, int k, Set<String> needed) {
    BisectContext ctx = NeededNodes.context(G, SAMPLES, k, needed);
    PrecisionSearch.Tester test =
        new PrecisionSearch.Tester(ctx, new ArrayList<>(), Integer.MAX_VALUE, List.of());
    PrecisionSearch.Ddmin dd = new PrecisionSearch.Ddmin(plan);
    dd.run(test);
    return new Shrink(dd.current, ctx.prober().candidateBuilds(), ctx.prober().rounds());
  }
}
