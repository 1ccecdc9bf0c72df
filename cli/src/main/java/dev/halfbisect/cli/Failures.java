package dev.halfbisect.cli;

import dev.halfbisect.api.HalfBisectException;
import dev.halfbisect.core.io.UnsafeTargetException;
import dev.halfbisect.onnx.OnnxModelException;
import dev.halfbisect.onnx.UnknownNameException;
import dev.halfbisect.report.text.TerminalText;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The one place that decides what a failure means for the user: its exit code and its one-line
 * message. 2 for usage problems (options, files, refused output targets), 3 for model or backend
 * problems, out of memory included (an out-of-memory is never an accuracy failure, exit 1).
 */
final class Failures {
  private Failures() {}

  static final String OUT_OF_MEMORY_REMEDY =
      "give Java more memory (HALFBISECT_JAVA_OPTS=-Xmx8g halfbisect ...), or observe less per build "
          + "(--observe-mib 32) or use fewer samples (--samples)";

  /** The exit code of a failure (the cause chain is searched for what decides it). */
  static int exitCode(Throwable ex) {
    if (find(ex, OutOfMemoryError.class) != null) {
      return Main.MODEL_OR_BACKEND;
    }
    if (find(ex, UnsafeTargetException.class) != null) {
      return Main.USAGE;
    }
    if (ex instanceof UsageException) {
      return Main.USAGE;
    }
    if (ex instanceof HalfBisectException h) {
      return h.kind() == HalfBisectException.Kind.USAGE ? Main.USAGE : Main.MODEL_OR_BACKEND;
    }
    if (ex instanceof UnknownNameException) {
      return Main.USAGE;
    }
    if (ex instanceof OnnxModelException) {
      return Main.MODEL_OR_BACKEND;
    }
    if (ex instanceof IllegalArgumentException) {
      return Main.USAGE;
    }
    return Main.MODEL_OR_BACKEND;
  }

  /** The one line printed after {@code halfbisect: } (and {@code error: } for exit 3). */
  static String message(Throwable ex) {
    // Messages quote model-supplied names: escape them for the terminal (issue 16).
    return TerminalText.escape(rawMessage(ex));
  }

  private static String rawMessage(Throwable ex) {
    OutOfMemoryError oom = find(ex, OutOfMemoryError.class);
    if (oom != null) {
      String what = oom.getMessage() == null ? "" : " (" + oom.getMessage() + ")";
      return "out of memory" + what + ": " + OUT_OF_MEMORY_REMEDY;
    }
    UnsafeTargetException unsafe = find(ex, UnsafeTargetException.class);
    if (unsafe != null) {
      return unsafe.getMessage();
    }
    if (ex instanceof UncheckedIOException && ex.getCause() != null) {
      return firstLine(ex.getMessage());
    }
    String m = ex.getMessage();
    return firstLine(m == null || m.isBlank() ? ex.toString() : m);
  }

  /**
   * Why an I/O operation failed, in words: Java's file-system exceptions carry only the path as
   * their message ("cannot write X: X" otherwise).
   */
  static String reason(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or folder";
    }
    if (e instanceof NotDirectoryException) {
      return "a path component is not a folder";
    }
    if (e instanceof DirectoryNotEmptyException) {
      return "it is a non-empty folder";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException) {
      return "a file is in the way";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).trim();
  }

  private static <T extends Throwable> T find(Throwable ex, Class<T> type) {
    for (Throwable t = ex; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
