package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: the last stage of a shrink with k probes a round settles several nodes a round whether
 * removals mostly pass or mostly fail, and keeps the one-at-a-time answer.
 */
class DropEachTest {
  private static final ModelGraph G = TestModels.transformer(12, 7);
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(1);
  private static final List<String> PLAN = G.floatNodes().subList(0, 40);

  /** Builds and rounds of one shrink, and what it kept. */
  private record Shrink(List<String> kept, int builds, int rounds) {}

  @Test
  void removalsThatMostlyPassAreTriedTogetherAndKeepTheSequentialAnswer() {
    Set<String> needed = pick(4, 1);
    Shrink one = shrink(1, needed);
    Shrink four = sameAnswerWithFour(one, needed);
    // one at a time: a build per node, and the needed ones tested before the last removal again
    assertThat(one.builds()).isBetween(PLAN.size(), PLAN.size() + needed.size());
    // tried alone only, each of the 36 passing removals took a round of 4 builds: 145 builds in 37
    // rounds against 44 one at a time; together, 67 in 18
    assertThat(four.rounds()).isLessThanOrEqualTo(one.builds() / 2);
    assertThat(four.builds()).isLessThan(2 * one.builds());
  }

  @Test
  void removalsThatMostlyFailAreTriedAloneAndKeepTheSequentialAnswer() {
    Set<String> needed = pick(36, 2);
    Shrink one = shrink(1, needed);
    Shrink four = sameAnswerWithFour(one, needed);
    assertThat(four.rounds()).isLessThanOrEqualTo(one.builds() / 2);
    assertThat(four.builds()).isLessThanOrEqualTo(one.builds() + one.builds() / 2);
  }

  @Test
  void aCutShrinkStillHoldsAPassingPlan() {
    Set<String> needed = pick(10, 3);
    BisectContext ctx = NeededNodes.context(G, SAMPLES, 4, needed);
    PrecisionSearch.Tester test = new PrecisionSearch.Tester(ctx, new ArrayList<>(), 9, List.of());
    List<String> current = new ArrayList<>(PLAN);
    assertThatThrownBy(() -> DropEach.run(test, current))
        .isInstanceOf(PrecisionSearch.BudgetExhausted.class);
    assertThat(current).containsAll(needed).hasSizeLessThan(PLAN.size());
    assertThat(ctx.prober().candidateBuilds()).isEqualTo(9);
  }

  /** The shrink with k = 4, after checking it and {@code one} keep exactly {@code needed}. */
  private static Shrink sameAnswerWithFour(Shrink one, Set<String> needed) {
    Shrink four = shrink(4, needed);
    assertThat(one.kept()).containsExactlyInAnyOrderElementsOf(needed);
    assertThat(four.kept()).isEqualTo(one.kept());
    return four;
  }

  private static Shrink shrink(int k, Set<String> needed) {
    BisectContext ctx = NeededNodes.context(G, SAMPLES, k, needed);
    PrecisionSearch.Tester test =
        new PrecisionSearch.Tester(ctx, new ArrayList<>(), Integer.MAX_VALUE, List.of());
    List<String> current = new ArrayList<>(PLAN);
    DropEach.run(test, current);
    return new Shrink(current, ctx.prober().candidateBuilds(), ctx.prober().rounds());
  }

  private static Set<String> pick(int n, long seed) {
    List<String> shuffled = new ArrayList<>(PLAN);
    Collections.shuffle(shuffled, new Random(seed));
    return Set.copyOf(shuffled.subList(0, n));
  }
}
