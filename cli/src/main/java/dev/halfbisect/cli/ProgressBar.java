package dev.halfbisect.cli;

import dev.halfbisect.api.ProgressListener;
import java.io.PrintWriter;

/**
 * A one-line progress display on stderr, redrawn with carriage returns. Used only when stderr is a
 * terminal ({@code System.console() != null}) and {@code --quiet} is not given.
 */
final class ProgressBar implements ProgressListener {
  private static final int WIDTH = 24;
  private final PrintWriter err;
  private final long start = System.nanoTime();
  private String phase = "";
  private int total = -1;
  private int lastLength;

  ProgressBar(PrintWriter err) {
    this.err = err;
  }

  /** The listener for a command: a bar on a terminal, nothing otherwise. */
  static ProgressListener forTerminal(boolean quiet, PrintWriter err) {
    return quiet || System.console() == null ? ProgressListener.NONE : new ProgressBar(err);
  }

  @Override
  public synchronized void phase(String name, int totalSteps) {
    phase = name;
    total = totalSteps;
    draw(0, "starting");
  }

  @Override
  public synchronized void step(int done, String message) {
    draw(done, message);
  }

  @Override
  public synchronized void finished() {
    err.print("\r" + " ".repeat(lastLength) + "\r");
    err.flush();
  }

  private void draw(int done, String message) {
    String bar;
    if (total > 0) {
      int filled = Math.min(WIDTH, done * WIDTH / total);
      bar = "[" + "#".repeat(filled) + "-".repeat(WIDTH - filled) + "] " + done + "/" + total;
    } else {
      bar = "[" + done + " probe(s)]";
    }
    long s = (System.nanoTime() - start) / 1_000_000_000L;
    String line = String.format("%s %s %ds %s", phase, bar, s, message);
    if (line.length() > 100) {
      line = line.substring(0, 97) + "...";
    }
    err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
    lastLength = line.length();
    err.flush();
  }
}
