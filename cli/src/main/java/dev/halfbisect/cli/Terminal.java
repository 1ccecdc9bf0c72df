package dev.halfbisect.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the CLI knows about its terminal. Whether stderr (not stdin/stdout, which is what {@link
 * System#console()} tells on Java 17) is a terminal: on Linux the target of {@code
 * /proc/self/fd/2}; elsewhere {@code System.console()} as the best guess. {@code
 * HALFBISECT_PROGRESS=bar|lines} overrides it.
 */
final class Terminal {
  private Terminal() {}

  static boolean stderrIsTerminal() {
    String forced = System.getenv("HALFBISECT_PROGRESS");
    if ("bar".equals(forced)) {
      return true;
    }
    if ("lines".equals(forced)) {
      return false;
    }
    Path fd = Path.of("/proc/self/fd/2");
    if (Files.isSymbolicLink(fd)) {
      try {
        return isTerminalDevice(Files.readSymbolicLink(fd).toString());
      } catch (IOException | UnsupportedOperationException e) {
        return false;
      }
    }
    return System.console() != null;
  }

  /**
   * Whether a file descriptor's target is a terminal device ({@code /dev/pts/3}, {@code
   * /dev/tty1}).
   */
  static boolean isTerminalDevice(String target) {
    return target.startsWith("/dev/pts/")
        || target.startsWith("/dev/tty")
        || target.startsWith("/dev/console");
  }

  /** Terminal width from {@code COLUMNS}, else 100. */
  static int columns() {
    try {
      String c = System.getenv("COLUMNS");
      return c == null ? 100 : Integer.parseInt(c.trim());
    } catch (NumberFormatException e) {
      return 100;
    }
  }
}
