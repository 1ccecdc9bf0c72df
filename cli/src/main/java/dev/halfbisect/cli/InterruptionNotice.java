package dev.halfbisect.cli;

import dev.halfbisect.bisect.ProbeJournal;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The line the command prints when it is stopped by a signal (Ctrl-C, {@code kill}, a time limit)
 * before it finishes: how long it ran and what the probe journals under {@code --out} hold, so that
 * the user knows the same command resumes. Without it the process ended with exit 130 or 143 and
 * nothing on the terminal. The JVM runs shutdown hooks on SIGINT and SIGTERM (not on SIGKILL); the
 * hook prints nothing when the command returned normally ({@link #finished}).
 */
final class InterruptionNotice {
  private static volatile Path journal;
  private static volatile boolean analysing;
  private static volatile boolean finished;
  private static long start;

  private InterruptionNotice() {}

  /** Installs the hook for this process's one command, writing to {@code err}. */
  static void install(PrintWriter err) {
    start = System.nanoTime();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (!finished) {
                    err.println();
                    err.println(message(analysing, journal, System.nanoTime() - start));
                    err.flush();
                  }
                },
                "halfbisect-interrupted"));
  }

  /**
   * The running command analyses a model, with the candidate's journal {@code file} ({@code --out
   * DIR/probes.jsonl}; null without {@code --out}).
   */
  static void analysing(Path file) {
    analysing = true;
    journal = file;
  }

  /** The command returned: no notice at exit. */
  static void finished() {
    finished = true;
  }

  /**
   * The notice for a command stopped after {@code nanos}: for an analysing command, what its
   * journal (may be null) holds.
   */
  static String message(boolean analysing, Path journal, long nanos) {
    long s = TimeUnit.NANOSECONDS.toSeconds(nanos);
    String head =
        String.format(
            java.util.Locale.ROOT, "halfbisect: interrupted after %d:%02d", s / 60, s % 60);
    if (!analysing) {
      return head;
    }
    if (journal == null) {
      return head + "; no probe journal (give --out DIR to make a run resumable)";
    }
    long probes = ProbeJournal.countEntries(journal);
    long emulation = 0;
    for (Path f : emulationJournals(journal)) {
      emulation += ProbeJournal.countEntries(f);
    }
    if (probes + emulation == 0) {
      return head + "; no probe was decided yet (" + journal + " is empty)";
    }
    return head
        + "; "
        + probes
        + (probes == 1 ? " probe" : " probes")
        + (emulation > 0 ? " and " + emulation + " emulation probes" : "")
        + " are journaled in "
        + journal.getParent()
        + ": the same command resumes from them (--fresh starts over)";
  }

  private static List<Path> emulationJournals(Path journal) {
    List<Path> out = new ArrayList<>();
    Path dir = journal.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "emulation-*probes.jsonl")) {
      ds.forEach(out::add);
    } catch (IOException e) {
      // the notice then counts the candidate's probes only
    }
    return out;
  }
}
