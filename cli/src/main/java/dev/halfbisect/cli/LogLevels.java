package dev.halfbisect.cli;

/**
 * Sets up the CLI's SLF4J provider (slf4j-simple) before the first logger exists: log lines go to
 * stderr, at level {@code info} with {@code --verbose} and {@code error} otherwise (warnings reach
 * the user through the report). A level given with {@code
 * -Dorg.slf4j.simpleLogger.defaultLogLevel=debug} wins.
 */
final class LogLevels {
  static final String LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

  private LogLevels() {}

  static void configure(boolean verbose) {
    setIfAbsent(LEVEL, verbose ? "info" : "error");
    setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
    setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
    setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
    setIfAbsent("org.slf4j.simpleLogger.levelInBrackets", "true");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
