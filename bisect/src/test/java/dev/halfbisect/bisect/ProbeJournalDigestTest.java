package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.io.UnsafeTargetException;
import dev.halfbisect.core.verdict.Tolerance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's digest line, its fresh start, cut-off lines and symlinks (issue 16). */
class ProbeJournalDigestTest {
  private static final ModelGraph MODEL = TestModels.transformer(4, 1);

  @TempDir Path dir;

  private int search(Path file, Tolerance tol, boolean fresh) throws Exception {
    InterpreterBackend b = new InterpreterBackend();
    try (ProbeJournal j = fresh ? ProbeJournal.fresh(file) : ProbeJournal.open(file)) {
      FirstDivergence.search(
          TestModels.context(MODEL, b, TestModels.transformerSamples(2))
              .tolerance(tol)
              .journal(j)
              .build());
    }
    return b.fp16Builds();
  }

  @Test
  void aChangedToleranceStartsTheJournalOverUnderItsOwnDigest() throws Exception {
    Path file = dir.resolve("probes.jsonl");
    int builds = search(file, Tolerance.fp16Default(), false);
    assertThat(builds).isPositive();
    List<String> lines = Files.readAllLines(file);
    assertThat(lines.get(0)).startsWith("{\"digest\":\"");
    assertThat(lines).hasSize(builds + 1);
    assertThat(search(file, Tolerance.fp16Default(), false)).as("resumed: no build").isZero();

    int other = search(file, Tolerance.normalized(0.5), false);
    assertThat(other).as("another tolerance reads nothing").isPositive();
    List<String> after = Files.readAllLines(file);
    assertThat(after.get(0)).isNotEqualTo(lines.get(0));
    assertThat(after).as("old entries dropped, not appended to").hasSize(other + 1);
  }

  @Test
  void freshIgnoresTheJournal() throws Exception {
    Path file = dir.resolve("probes.jsonl");
    int builds = search(file, Tolerance.fp16Default(), false);
    assertThat(search(file, Tolerance.fp16Default(), true)).isEqualTo(builds);
    assertThat(Files.readAllLines(file)).hasSize(builds + 1);
  }

  @Test
  void aLineCutOffByAKillDoesNotSwallowTheNextRecord() throws Exception {
    Path file = dir.resolve("probes.jsonl");
    int builds = search(file, Tolerance.fp16Default(), false);
    List<String> lines = Files.readAllLines(file);
    // Keep the digest and the first probe, then half of the second line, as a kill -9 leaves it.
    String cut = lines.get(2).substring(0, lines.get(2).length() / 2);
    Files.writeString(file, lines.get(0) + "\n" + lines.get(1) + "\n" + cut);
    assertThat(search(file, Tolerance.fp16Default(), false)).isEqualTo(builds - 1);
    try (ProbeJournal j = ProbeJournal.open(file)) {
      assertThat(j.size()).isEqualTo(builds);
    }
  }

  @Test
  void countEntriesCountsDecidedProbesOnlyNotTheDigestNorACutLine() throws Exception {
    Path file = dir.resolve("probes.jsonl");
    assertThat(ProbeJournal.countEntries(file)).isZero();
    int builds = search(file, Tolerance.fp16Default(), false);
    assertThat(ProbeJournal.countEntries(file)).isEqualTo(builds);
    List<String> lines = Files.readAllLines(file);
    String cut = lines.get(2).substring(0, lines.get(2).length() / 2);
    Files.writeString(file, lines.get(0) + "\n" + lines.get(1) + "\n" + cut);
    assertThat(ProbeJournal.countEntries(file)).isEqualTo(1);
    assertThat(ProbeJournal.countEntries(dir)).isZero();
  }

  @Test
  void aSymlinkedJournalIsRefused() throws Exception {
    Path target = Files.writeString(dir.resolve("elsewhere"), "keep");
    Path link = Files.createSymbolicLink(dir.resolve("probes.jsonl"), target);
    assertThatThrownBy(() -> ProbeJournal.open(link)).isInstanceOf(UnsafeTargetException.class);
    assertThat(Files.readString(target)).isEqualTo("keep");
  }
}
