package dev.halfbisect.trt.worker;

/**
 * Log lines of the worker on stderr, prefixed with a level letter the parent maps to SLF4J levels
 * ({@code E}, {@code W}, {@code I}, {@code D}).
 */
public final class WorkerLog {
  private WorkerLog() {}

  public static void error(String msg) {
    line('E', msg);
  }

  public static void warn(String msg) {
    line('W', msg);
  }

  public static void info(String msg) {
    line('I', msg);
  }

  public static void debug(String msg) {
    line('D', msg);
  }

  private static void line(char level, String msg) {
    for (String l : msg.split("\n")) {
      System.err.println(level + " " + l);
    }
  }
}
