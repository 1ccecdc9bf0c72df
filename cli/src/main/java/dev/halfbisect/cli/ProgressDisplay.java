package dev.halfbisect.cli;

import dev.halfbisect.api.ProgressListener;
import java.io.PrintWriter;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Progress on stderr: the phase, candidate builds done / bound, elapsed time, ETA and what is
 * running with its own clock ({@code "candidate: TensorRT FP16 build 2:10"}), refreshed every
 * second from the first event on, so a build of minutes never looks hung.
 *
 * <ul>
 *   <li>{@link Style#BAR} when stderr is a terminal: one line redrawn with a carriage return, cut
 *       to the terminal width (never wrapped), cleared when the work is done;
 *   <li>{@link Style#LINES} otherwise (a log file, CI): plain lines, no carriage returns, at each
 *       phase, at each finished build, and every {@link #LINE_PERIOD_SECONDS} s while a build runs.
 * </ul>
 */
final class ProgressDisplay implements ProgressListener {
  /** How progress is shown. */
  enum Style {
    BAR,
    LINES
  }

  static final int LINE_PERIOD_SECONDS = 30;
  private static final int BAR_WIDTH = 20;

  private final PrintWriter err;
  private final Style style;
  private final int columns;
  private final LongSupplier nanos;
  private final boolean ticking;
  private final long start;
  private ScheduledExecutorService ticker;

  private String phase = "";
  private int total = -1;
  private int done;
  private long phaseStart;
  private String running;
  private long runningSince;
  // builds started inside a running one (a candidate probe asks for reference values first)
  private final java.util.ArrayDeque<Object[]> outer = new java.util.ArrayDeque<>();
  private long lastLine;
  private long lastStep;
  private int lastLength;

  /**
   * @param columns terminal width (the bar line is cut to {@code columns - 1})
   * @param nanos the clock ({@link System#nanoTime} outside tests)
   * @param ticking whether a daemon thread refreshes the display every second
   */
  ProgressDisplay(PrintWriter err, Style style, int columns, LongSupplier nanos, boolean ticking) {
    this.err = err;
    this.style = style;
    this.columns = Math.max(40, columns);
    this.nanos = nanos;
    this.ticking = ticking;
    this.start = nanos.getAsLong();
    this.phaseStart = start;
  }

  /** The listener for a command: none under --quiet, a bar on a terminal, lines otherwise. */
  static ProgressListener forStderr(boolean quiet, PrintWriter err) {
    if (quiet) {
      return ProgressListener.NONE;
    }
    Style style = Terminal.stderrIsTerminal() ? Style.BAR : Style.LINES;
    return new ProgressDisplay(err, style, Terminal.columns(), System::nanoTime, true);
  }

  @Override
  public synchronized void phase(String name, int totalSteps) {
    boolean same = name.equals(phase);
    phase = name;
    total = totalSteps;
    if (!same) {
      done = 0;
      phaseStart = nanos.getAsLong();
    }
    startTicker();
    if (style == Style.LINES) {
      if (!same) {
        line(
            "phase "
                + name
                + (totalSteps > 0 ? " (at most " + totalSteps + " candidate builds)" : ""));
      } else if (totalSteps > 0) {
        line(name + ": at most " + totalSteps + " candidate builds");
      }
    } else {
      draw();
    }
  }

  @Override
  public synchronized void running(String what) {
    if (running != null) {
      outer.push(new Object[] {running, runningSince});
    }
    running = what;
    runningSince = nanos.getAsLong();
    startTicker();
    if (style == Style.LINES) {
      line(what + " started");
    } else {
      draw();
    }
  }

  @Override
  public synchronized void step(int doneSteps, String message) {
    done = doneSteps;
    lastStep = nanos.getAsLong();
    String finished = running;
    long took = nanos.getAsLong() - runningSince;
    running = null;
    if (!outer.isEmpty()) {
      Object[] o = outer.pop();
      running = (String) o[0];
      runningSince = (Long) o[1];
    }
    if (style == Style.LINES) {
      // a step no running() announced (perf's rows) has no start to time it from
      line(
          finished == null
              ? counter() + " done in " + phase
              : finished + " done in " + clock(took) + " (" + counter() + " in " + phase + ")");
    } else {
      draw();
    }
  }

  @Override
  public synchronized void finished() {
    if (ticker != null) {
      ticker.shutdownNow();
      ticker = null;
    }
    running = null;
    outer.clear();
    if (style == Style.BAR && lastLength > 0) {
      err.print("\r" + " ".repeat(lastLength) + "\r");
      lastLength = 0;
    }
    err.flush();
  }

  /**
   * One refresh: redraws the bar, or prints a line when a build has run a period since the last.
   */
  synchronized void tick() {
    long now = nanos.getAsLong();
    if (style == Style.BAR) {
      draw();
    } else if (running != null && now - lastLine >= TimeUnit.SECONDS.toNanos(LINE_PERIOD_SECONDS)) {
      line(running + " still running, " + clock(now - runningSince));
    }
  }

  /** The bar's text (without the carriage return), at most {@code columns - 1} characters. */
  synchronized String barText() {
    long now = nanos.getAsLong();
    StringBuilder sb = new StringBuilder(phase.isEmpty() ? "halfbisect" : phase).append(' ');
    if (total > 0) {
      int filled = Math.min(BAR_WIDTH, done * BAR_WIDTH / total);
      sb.append('[').append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled)).append("] ");
    }
    sb.append(counter()).append(' ').append(clock(now - start));
    if (total > 0 && done > 0 && done < total) {
      // the finished builds' pace for the rest, less what the running one has already taken
      long perBuild = (lastStep - phaseStart) / done;
      long inFlight = running == null ? 0 : now - runningSince;
      sb.append(" ETA ").append(clock(Math.max(0, perBuild * (total - done) - inFlight)));
    }
    if (running != null) {
      sb.append(" | ").append(running).append(' ').append(clock(now - runningSince));
    }
    String text = sb.toString();
    int max = columns - 1;
    return text.length() <= max ? text : text.substring(0, max - 3) + "...";
  }

  private String counter() {
    // perf's steps are its table's rows (one build may serve several); elsewhere builds
    String unit = phase.equals("perf") ? "row" : "build";
    return total > 0
        ? done + "/" + total + " " + unit + "s"
        : done + " " + unit + (done == 1 ? "" : "s");
  }

  private void draw() {
    String text = barText();
    err.print("\r" + text + " ".repeat(Math.max(0, lastLength - text.length())));
    lastLength = text.length();
    err.flush();
  }

  private void line(String text) {
    long now = nanos.getAsLong();
    lastLine = now;
    err.println("halfbisect [" + clock(now - start) + "] " + text);
    err.flush();
  }

  private void startTicker() {
    if (!ticking || ticker != null) {
      return;
    }
    ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "halfbisect-progress");
              t.setDaemon(true);
              return t;
            });
    ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
  }

  /** {@code m:ss}, or {@code h:mm:ss} from an hour on. */
  static String clock(long nanos) {
    long s = Math.max(0, TimeUnit.NANOSECONDS.toSeconds(nanos));
    return s >= 3600
        ? String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
        : String.format("%d:%02d", s / 60, s % 60);
  }
}
