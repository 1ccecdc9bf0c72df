package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalAndListenerTest {

  @Test
  void journalRecordsProbesAndSkipsACutOffLine(@TempDir Path dir) throws Exception {
    ModelGraph g = TestModels.transformer(4, 1);
    Path file = dir.resolve("j.jsonl");
    FirstDivergence.Result first;
    try (ProbeJournal j = ProbeJournal.open(file)) {
      first =
          FirstDivergence.search(
              TestModels.context(g, new InterpreterBackend(), TestModels.transformerSamples(2))
                  .journal(j)
                  .build());
      assertThat(j.entries()).hasSize(first.candidateBuilds());
      assertThat(j.entries())
          .allSatisfy(
              e -> {
                assertThat(e.key()).hasSize(64);
                assertThat(e.model()).isEqualTo(g.name());
                assertThat(e.status()).isIn("OK", "ALL_NAN");
              });
      // The overflow turns the output into NaN everywhere: recorded as such, counted as a failure.
      assertThat(j.entries().get(0).kind()).isEqualTo("FULL");
      assertThat(j.entries().get(0).status()).isEqualTo("ALL_NAN");
      // Infinite errors of the overflow survive the round trip.
      assertThat(j.entries().get(0).tensors().get(0).stats().get(0).normalizedError()).isInfinite();
    }
    Files.writeString(file, "{\"key\":\"trunc", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    InterpreterBackend b = new InterpreterBackend();
    try (ProbeJournal j = ProbeJournal.open(file)) {
      assertThat(j.size()).isEqualTo(first.candidateBuilds());
      FirstDivergence.Result again =
          FirstDivergence.search(
              TestModels.context(g, b, TestModels.transformerSamples(2)).journal(j).build());
      assertThat(b.fp16Builds()).isZero();
      assertThat(again.divergence()).isEqualTo(first.divergence());
      assertThat(again.steps()).isEqualTo(first.steps());
    }
    // Other samples make other keys: nothing is reused.
    InterpreterBackend c = new InterpreterBackend();
    try (ProbeJournal j = ProbeJournal.open(file)) {
      FirstDivergence.search(
          TestModels.context(g, c, TestModels.transformerSamples(3)).journal(j).build());
      assertThat(c.fp16Builds()).isPositive();
    }
  }

  @Test
  void listenerSeesPhasesAndEveryProbe() {
    List<String> events = new ArrayList<>();
    BisectListener l =
        new BisectListener() {
          @Override
          public void phase(String name) {
            events.add("phase:" + name);
          }

          @Override
          public void probeStarted(ProbeSpec spec) {
            events.add("start:" + spec.kind());
          }

          @Override
          public void probeFinished(ProbeResult result) {
            events.add("end:" + result.spec().kind() + ":" + result.status());
          }
        };
    InterpreterBackend b = new InterpreterBackend();
    FirstDivergence.search(
        TestModels.context(TestModels.transformer(4, 2), b, TestModels.transformerSamples(1))
            .listener(l)
            .build());
    assertThat(events.get(0)).isEqualTo("phase:bisect");
    assertThat(events).contains("phase:reference", "start:FULL", "end:PREFIX:OK");
    assertThat(events.stream().filter(e -> e.startsWith("end:PREFIX"))).hasSize(b.fp16Builds() - 1);
  }

  @Test
  void withOneJobEachCandidateBuildIsAnnouncedWhenItStarts() {
    // the progress lines said four builds started at once, then they ran one after the other
    List<String> events = new ArrayList<>();
    BisectListener l =
        new BisectListener() {
          @Override
          public void probeStarted(ProbeSpec spec) {
            if (spec.side() == ProbeSpec.Side.CANDIDATE) {
              events.add("start");
            }
          }

          @Override
          public void probeFinished(ProbeResult result) {
            if (result.spec().side() == ProbeSpec.Side.CANDIDATE) {
              events.add("end");
            }
          }
        };
    ModelGraph g = TestModels.transformer(4, 2);
    BisectContext ctx =
        TestModels.context(g, new InterpreterBackend(), TestModels.transformerSamples(1))
            .listener(l)
            .build();
    assertThat(ctx.prober().parallelism()).isEqualTo(1);
    List<String> t = g.floatTensors();
    ctx.prober()
        .chunked(
            List.of(t.subList(0, 3), t.subList(3, 6), t.subList(6, 9)),
            c -> ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), c));
    assertThat(events).containsExactly("start", "end", "start", "end", "start", "end");
  }
}
