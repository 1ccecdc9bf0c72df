package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Issue 18: probes of one round built at once; rounds and builds counted, answers unchanged. */
class ParallelProbesTest {
  private static final ModelGraph PLANTED = TestModels.transformer(12, 7);
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(2);

  private static BisectContext context(int k, InterpreterBackend b) {
    return TestModels.context(PLANTED, b, SAMPLES).parallelism(k).build();
  }

  @Test
  void kAryFirstDivergenceFindsTheSameNodeWithinTheRoundBound() {
    FirstDivergence.Result one =
        FirstDivergence.search(context(1, new InterpreterBackend()), false);
    int n = PLANTED.floatTensors().size();
    for (int k : new int[] {2, 3, 4, 8}) {
      BisectContext ctx = context(k, new InterpreterBackend());
      FirstDivergence.Result r = FirstDivergence.search(ctx, false);
      assertThat(r.divergence().get().node()).as("k=%s", k).isEqualTo(TestModels.plantUp(7));
      assertThat(r.divergence().get().tensor()).isEqualTo(one.divergence().get().tensor());
      assertThat(ctx.prober().rounds())
          .as("k=%s, N=%s", k, n)
          .isLessThanOrEqualTo(FirstDivergence.roundBound(n, k))
          .isLessThan(one.candidateBuilds());
      assertThat(r.candidateBuilds()).isLessThanOrEqualTo(FirstDivergence.buildBound(n, k));
    }
    // Sequential: one build per round, the binary bound.
    assertThat(FirstDivergence.buildBound(n, 1))
        .isEqualTo(FirstDivergence.ceilLog2(n) + 1)
        .isGreaterThanOrEqualTo(one.candidateBuilds());
  }

  @Test
  void defaultRefinementStaysWithinTheParallelBuildBound() {
    BisectContext ctx = context(3, new InterpreterBackend());
    FirstDivergence.Result r = FirstDivergence.search(ctx);
    assertThat(r.divergence().get().node()).isEqualTo(TestModels.plantUp(7));
    assertThat(r.buildBound())
        .isEqualTo(FirstDivergence.buildBound(PLANTED.floatTensors().size(), 3));
    assertThat(r.candidateBuilds()).isLessThanOrEqualTo(r.buildBound());
  }

  @Test
  void spreadKeepsEveryGapWithinTheKAryShare() {
    for (int lo = -1; lo < 5; lo++) {
      for (int hi = lo + 2; hi < 60; hi++) {
        for (int k = 1; k <= 6; k++) {
          List<Integer> p = FirstDivergence.spreadInside(lo, hi, k);
          assertThat(p).isNotEmpty().hasSizeLessThanOrEqualTo(k).isSorted().doesNotHaveDuplicates();
          int prev = lo;
          int maxGap = (hi - lo + k) / (k + 1);
          for (int x : p) {
            assertThat(x - prev).isBetween(1, maxGap);
            prev = x;
          }
          assertThat(hi - prev).isBetween(1, maxGap);
        }
      }
    }
  }

  @Test
  void parallelPrecisionSearchFindsTheSequentialPlanInFewerRounds() {
    InterpreterBackend b1 = new InterpreterBackend();
    BisectContext c1 = context(1, b1);
    // Overflow nodes not pinned up front: the ranked growth, binary search and ddmin do the work.
    PrecisionSearch.Options searchAll = PrecisionSearch.Options.defaults().withPinOverflows(false);
    PrecisionSearch.Result one = PrecisionSearch.run(c1, searchAll);
    InterpreterBackend b4 = new InterpreterBackend();
    BisectContext c4 = context(4, b4);
    PrecisionSearch.Result four = PrecisionSearch.run(c4, searchAll);
    assertThat(four.fp32Nodes()).isEqualTo(one.fp32Nodes());
    assertThat(four.oneMinimal()).isTrue();
    assertThat(c1.prober().rounds()).isEqualTo(c1.prober().candidateBuilds());
    assertThat(c4.prober().rounds()).isLessThan(c1.prober().rounds());
    assertThat(four.totalBuilds()).isEqualTo(b4.fp16Builds());
  }

  @Test
  void parallelPrecisionSearchKeepsItsBuildBudget() {
    InterpreterBackend b = new InterpreterBackend();
    BisectContext ctx = context(4, b);
    Amplification.Result seed = Amplification.analyze(ctx);
    PrecisionSearch.Result r = PrecisionSearch.run(ctx, seed, seed.candidateBuilds(), 3);
    assertThat(r.found()).isTrue();
    // growth ignores the budget; the rest may not exceed it
    long growth = r.steps().stream().filter(s -> s.phase().equals("seed")).count();
    assertThat(r.searchBuilds()).isLessThanOrEqualTo((int) growth + 3 + 1);
  }

  @Test
  void parallelLayerwiseChunksGiveTheSameRowsInFewerRounds() {
    BisectContext seq =
        TestModels.context(PLANTED, new InterpreterBackend(), SAMPLES).maxChunkTensors(7).build();
    Layerwise.Result a = Layerwise.run(seq);
    BisectContext par =
        TestModels.context(PLANTED, new InterpreterBackend(), SAMPLES)
            .maxChunkTensors(7)
            .parallelism(4)
            .build();
    Layerwise.Result b = Layerwise.run(par);
    assertThat(b.candidateBuilds()).isEqualTo(a.candidateBuilds());
    assertThat(par.prober().rounds()).isEqualTo((a.candidateBuilds() + 3) / 4);
    assertThat(b.tensors()).hasSameSizeAs(a.tensors());
    for (int i = 0; i < a.tensors().size(); i++) {
      assertThat(b.tensors().get(i).tensor()).isEqualTo(a.tensors().get(i).tensor());
      assertThat(b.tensors().get(i).error()).isEqualTo(a.tensors().get(i).error());
    }
  }

  @Test
  void oneRoundsProbesReallyRunAtOnceAndEqualProbesBuildOnce() {
    InterpreterBackend b = new InterpreterBackend();
    ProbeBackends backends =
        new ProbeBackends(
            b,
            dev.halfbisect.core.backend.BuildOptions.of("fp32"),
            b,
            dev.halfbisect.core.backend.BuildOptions.of("fp16-emulated"));
    SpiProbeRunner spi = new SpiProbeRunner(PLANTED, backends);
    CyclicBarrier bothCandidates = new CyclicBarrier(2);
    ProbeRunner meeting =
        (spec, feeds) -> {
          if (spec.side() == ProbeSpec.Side.CANDIDATE) {
            try {
              // passes only when two candidate builds are in flight together
              bothCandidates.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
              throw new BackendException("candidate probes did not run at once: " + e);
            }
          }
          return spi.run(spec, feeds);
        };
    BisectContext ctx =
        BisectContext.builder(
                PLANTED,
                b,
                dev.halfbisect.core.backend.BuildOptions.of("fp32"),
                b,
                dev.halfbisect.core.backend.BuildOptions.of("fp16-emulated"))
            .samples(SAMPLES)
            .runner(meeting)
            .parallelism(2)
            .build();
    String t1 = PLANTED.floatTensors().get(3);
    String t2 = PLANTED.floatTensors().get(9);
    List<ProbeResult> rs =
        ctx.prober()
            .probeAll(
                List.of(
                    ProbeSpec.prefix(ctx.basePlan(), List.of(t1)),
                    ProbeSpec.prefix(ctx.basePlan(), List.of(t2)),
                    ProbeSpec.prefix(ctx.basePlan(), List.of(t1))));
    assertThat(rs).allMatch(r -> r.status() == ProbeResult.Status.OK);
    assertThat(rs.get(2)).isSameAs(rs.get(0));
    assertThat(ctx.prober().candidateBuilds()).isEqualTo(2);
    assertThat(ctx.prober().rounds()).isEqualTo(1);
  }
}
