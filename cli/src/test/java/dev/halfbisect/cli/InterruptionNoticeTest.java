package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The line a command stopped by a signal prints (HostileCliTest sends the signal). */
class InterruptionNoticeTest {
  @TempDir Path tmp;

  private static final long SECONDS_75 = TimeUnit.SECONDS.toNanos(75);

  @Test
  void aCommandThatAnalysesNothingSaysOnlyHowLongItRan() {
    assertThat(InterruptionNotice.message(false, null, SECONDS_75))
        .isEqualTo("halfbisect: interrupted after 1:15");
  }

  @Test
  void withoutOutItSaysHowToMakeARunResumable() {
    assertThat(InterruptionNotice.message(true, null, SECONDS_75))
        .isEqualTo(
            "halfbisect: interrupted after 1:15; no probe journal (give --out DIR to make a run"
                + " resumable)");
  }

  @Test
  void itCountsTheJournalsEntriesAndTheEmulationsBesideIt() throws Exception {
    Path journal = tmp.resolve("probes.jsonl");
    assertThat(InterruptionNotice.message(true, journal, SECONDS_75))
        .endsWith("; no probe was decided yet (" + journal + " is empty)");
    Files.writeString(journal, "{\"digest\":\"d\"}\n{\"key\":\"a\"}\n{\"key\":\"b\"}\n");
    assertThat(InterruptionNotice.message(true, journal, SECONDS_75))
        .isEqualTo(
            "halfbisect: interrupted after 1:15; 2 probes are journaled in "
                + tmp
                + ": the same command resumes from them (--fresh starts over)");
    Files.writeString(
        tmp.resolve("emulation-probes.jsonl"), "{\"digest\":\"e\"}\n{\"key\":\"c\"}\n");
    Files.writeString(tmp.resolve("emulation-x1.0612-probes.jsonl"), "{\"key\":\"d\"}\n");
    assertThat(InterruptionNotice.message(true, journal, SECONDS_75))
        .contains("; 2 probes and 2 emulation probes are journaled in " + tmp);
  }
}
