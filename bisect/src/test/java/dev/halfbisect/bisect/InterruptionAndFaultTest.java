package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableMap;
import dev.halfbisect.bisect.testing.ForwardingSession;
import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reliability of the searches: a search interrupted after k probes resumes from its journal with no
 * repeated build and the same answer; candidate builds that crash, hang past their time limit or
 * return NaN everywhere are reported per probe and the search goes on.
 */
class InterruptionAndFaultTest {
  private static final ModelGraph MODEL = TestModels.transformer(4, 1);
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(2);
  private static final ExecutorService WORKER =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "faulty-backend-worker");
            t.setDaemon(true);
            return t;
          });

  @AfterAll
  static void stopWorkers() {
    WORKER.shutdownNow();
  }

  /** Thrown by the listener to cut a search off mid-way, like Ctrl-C or a killed process. */
  private static final class Interrupted extends RuntimeException {
    Interrupted(int probes) {
      super("interrupted after " + probes + " probes");
    }
  }

  private static BisectListener stopAfter(int k) {
    AtomicInteger built = new AtomicInteger();
    return new BisectListener() {
      @Override
      public void probeFinished(ProbeResult result) {
        if (!result.fromJournal()
            && result.spec().side() == ProbeSpec.Side.CANDIDATE
            && built.incrementAndGet() == k) {
          throw new Interrupted(k);
        }
      }
    };
  }

  @Test
  void interruptedPrecisionSearchResumesWithoutRepeatedBuilds(@TempDir Path dir) throws Exception {
    // Without the overflow rule the planted overflow is found by galloping and ddmin: a long
    // search.
    PrecisionSearch.Options longSearch = PrecisionSearch.Options.defaults().withPinOverflows(false);
    InterpreterBackend whole = new InterpreterBackend();
    PrecisionSearch.Result uninterrupted =
        PrecisionSearch.run(TestModels.context(MODEL, whole, SAMPLES).build(), longSearch);
    int total = whole.fp16Builds();
    assertThat(total).as("enough builds to interrupt in the middle").isGreaterThan(4);

    Path file = dir.resolve("probes.jsonl");
    int k = total / 2;
    InterpreterBackend first = new InterpreterBackend();
    try (ProbeJournal j = ProbeJournal.open(file)) {
      BisectContext ctx =
          TestModels.context(MODEL, first, SAMPLES).journal(j).listener(stopAfter(k)).build();
      assertThatThrownBy(() -> PrecisionSearch.run(ctx, longSearch))
          .isInstanceOf(Interrupted.class);
    }
    assertThat(first.fp16Builds()).isEqualTo(k);

    InterpreterBackend second = new InterpreterBackend();
    PrecisionSearch.Result resumed;
    try (ProbeJournal j = ProbeJournal.open(file)) {
      assertThat(j.size()).as("every finished probe was journaled").isEqualTo(k);
      resumed =
          PrecisionSearch.run(
              TestModels.context(MODEL, second, SAMPLES).journal(j).build(), longSearch);
    }
    assertThat(first.fp16Builds() + second.fp16Builds()).as("no build repeated").isEqualTo(total);
    assertThat(resumed.fp32Nodes()).isEqualTo(uninterrupted.fp32Nodes());
    assertThat(resumed.found()).isEqualTo(uninterrupted.found());
  }

  @Test
  void interruptedFirstDivergenceResumesWithoutRepeatedBuilds(@TempDir Path dir) throws Exception {
    InterpreterBackend whole = new InterpreterBackend();
    FirstDivergence.Result uninterrupted =
        FirstDivergence.search(TestModels.context(MODEL, whole, SAMPLES).build());
    int total = whole.fp16Builds();
    Path file = dir.resolve("bisect.jsonl");
    InterpreterBackend first = new InterpreterBackend();
    try (ProbeJournal j = ProbeJournal.open(file)) {
      BisectContext ctx =
          TestModels.context(MODEL, first, SAMPLES).journal(j).listener(stopAfter(2)).build();
      assertThatThrownBy(() -> FirstDivergence.search(ctx)).isInstanceOf(Interrupted.class);
    }
    InterpreterBackend second = new InterpreterBackend();
    FirstDivergence.Result resumed;
    try (ProbeJournal j = ProbeJournal.open(file)) {
      resumed =
          FirstDivergence.search(TestModels.context(MODEL, second, SAMPLES).journal(j).build());
    }
    assertThat(first.fp16Builds() + second.fp16Builds()).isEqualTo(total);
    assertThat(resumed.divergence()).isEqualTo(uninterrupted.divergence());
  }

  /** What the faulty backend does to its n-th candidate build (1-based). */
  enum Fault {
    NONE,
    CRASH,
    HANG,
    NAN
  }

  /**
   * A candidate backend around {@link InterpreterBackend} that injects faults by build number. A
   * hang runs on a worker thread watched like an out-of-process worker: past {@code limit} it is
   * abandoned and reported as a {@link BackendCrashException}, the SPI's contract for time limits.
   */
  static final class FaultyBackend implements Backend {
    final InterpreterBackend inner = new InterpreterBackend();
    final Map<Integer, Fault> faults;
    final Duration limit;
    final AtomicInteger builds = new AtomicInteger();

    FaultyBackend(Map<Integer, Fault> faults, Duration limit) {
      this.faults = faults;
      this.limit = limit;
    }

    @Override
    public String name() {
      return "faulty";
    }

    @Override
    public List<String> modes() {
      return inner.modes();
    }

    @Override
    public String referenceMode() {
      return inner.referenceMode();
    }

    @Override
    public String candidateMode() {
      return inner.candidateMode();
    }

    @Override
    public Availability availability() {
      return Availability.yes();
    }

    @Override
    public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
      Fault f = faults.getOrDefault(builds.incrementAndGet(), Fault.NONE);
      if (f == Fault.CRASH) {
        throw new BackendCrashException(
            "worker process exited with signal 11 (build " + builds.get() + ")");
      }
      BackendSession s = inner.open(model, options);
      return new ForwardingSession(s) {
        @Override
        public RunResult run(Map<String, Tensor> in) throws BackendException {
          if (f == Fault.HANG) {
            Future<RunResult> hung =
                WORKER.submit(
                    () -> {
                      Thread.sleep(60_000);
                      return s.run(in);
                    });
            try {
              return hung.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
              hung.cancel(true);
              throw new BackendCrashException("probe timed out after " + limit.toMillis() + " ms");
            } catch (InterruptedException | ExecutionException e) {
              throw new BackendException("worker failed: " + e, e);
            }
          }
          RunResult r = s.run(in);
          if (f != Fault.NAN) {
            return r;
          }
          ImmutableMap.Builder<String, Tensor> nan = ImmutableMap.builder();
          r.outputs()
              .forEach(
                  (name, t) -> {
                    float[] v = new float[t.intSize()];
                    Arrays.fill(v, Float.NaN);
                    nan.put(name, Tensor.ofFloats(t.shape(), v));
                  });
          return new RunResult(nan.build(), r.runTime());
        }
      };
    }
  }

  @Test
  void crashingHangingAndNanProbesAreReportedAndTheSearchGoesOn(@TempDir Path dir)
      throws Exception {
    FaultyBackend cand =
        new FaultyBackend(
            Map.of(1, Fault.CRASH, 2, Fault.HANG, 3, Fault.NAN), Duration.ofMillis(200));
    InterpreterBackend ref = new InterpreterBackend();
    List<ProbeResult> seen = new ArrayList<>();
    BisectListener l =
        new BisectListener() {
          @Override
          public void probeFinished(ProbeResult r) {
            if (r.spec().side() == ProbeSpec.Side.CANDIDATE) {
              seen.add(r);
            }
          }
        };
    long t0 = System.nanoTime();
    PrecisionSearch.Result r;
    try (ProbeJournal j = ProbeJournal.open(dir.resolve("faults.jsonl"))) {
      BisectContext ctx =
          BisectContext.builder(
                  MODEL, ref, BuildOptions.of("fp32"), cand, BuildOptions.of("fp16-emulated"))
              .samples(SAMPLES)
              .journal(j)
              .listener(l)
              .build();
      r = PrecisionSearch.run(ctx);
      // the faulty probes are journaled with their status, so a resume does not retry them blindly
      assertThat(j.entries()).extracting(ProbeJournal.Entry::status).contains("CRASH", "ALL_NAN");
    }
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .as("the hang was abandoned at its limit")
        .isLessThan(Duration.ofSeconds(30));
    assertThat(seen)
        .extracting(ProbeResult::status)
        .startsWith(ProbeResult.Status.CRASH, ProbeResult.Status.CRASH, ProbeResult.Status.ALL_NAN);
    assertThat(seen.get(0).message()).contains("signal 11");
    assertThat(seen.get(1).message()).contains("timed out after 200 ms");
    assertThat(seen.subList(0, 3)).noneMatch(ProbeResult::passes);
    assertThat(seen.size()).as("the search went on after the faults").isGreaterThan(3);
    assertThat(r.found()).as("and still found a passing FP32 set").isTrue();
    // the answer is one a fault-free search accepts: the plan passes on a healthy backend
    InterpreterBackend check = new InterpreterBackend();
    BisectContext healthy = TestModels.context(MODEL, check, SAMPLES).build();
    ProbeResult verify =
        healthy
            .prober()
            .probe(
                ProbeSpec.full(
                    ProbeSpec.Side.CANDIDATE,
                    dev.halfbisect.core.plan.PrecisionPlan.fp16Except(r.fp32Nodes()),
                    MODEL.graphOutputs()));
    assertThat(verify.passes()).isTrue();
  }

  @Test
  void firstDivergenceReportsFaultyProbesPerStep() {
    FaultyBackend cand =
        new FaultyBackend(Map.of(2, Fault.CRASH, 3, Fault.NAN), Duration.ofMillis(200));
    BisectContext ctx =
        BisectContext.builder(
                MODEL,
                new InterpreterBackend(),
                BuildOptions.of("fp32"),
                cand,
                BuildOptions.of("fp16-emulated"))
            .samples(SAMPLES)
            .build();
    FirstDivergence.Result r = FirstDivergence.search(ctx);
    assertThat(r.steps())
        .extracting(FirstDivergence.Step::status)
        .contains(ProbeResult.Status.CRASH, ProbeResult.Status.ALL_NAN);
    assertThat(r.steps())
        .filteredOn(s -> s.status() != ProbeResult.Status.OK)
        .noneMatch(FirstDivergence.Step::pass);
  }
}
