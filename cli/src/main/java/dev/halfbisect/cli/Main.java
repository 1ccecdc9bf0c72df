package dev.halfbisect.cli;

import dev.halfbisect.api.HalfBisectException;
import dev.halfbisect.onnx.OnnxModelException;
import dev.halfbisect.onnx.UnknownNameException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import picocli.CommandLine;

/**
 * The {@code halfbisect} command. Exit codes: 0 pass, 1 accuracy failure found, 2 usage error (one
 * line saying what is wrong and what was expected), 3 model or backend error. {@code --verbose}
 * adds stack traces.
 */
public final class Main {
  public static final int PASS = 0;
  public static final int ACCURACY_FAILURE = 1;
  public static final int USAGE = 2;
  public static final int MODEL_OR_BACKEND = 3;

  private Main() {}

  public static void main(String[] args) {
    LogLevels.configure(Arrays.asList(args).contains("--verbose")); // issue 17: before any logger
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = execute(args, out, err);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /**
   * Runs the command line in this process, writing to {@code out}/{@code err}; returns the exit
   * code.
   */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    CommandLine cl = new CommandLine(new HalfBisectCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          String msg = firstLine(ex.getMessage());
          String cmd = ex.getCommandLine().getCommandName();
          err.println(
              "halfbisect: "
                  + msg
                  + " (see 'halfbisect "
                  + (cmd.equals("halfbisect") ? "" : cmd + " ")
                  + "--help')");
          if (verbose) {
            ex.printStackTrace(err);
          }
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          int code = exitCode(ex);
          err.println("halfbisect: " + (code == USAGE ? "" : "error: ") + firstLine(message(ex)));
          if (verbose) {
            ex.printStackTrace(err);
          }
          return code;
        });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  static int exitCode(Throwable ex) {
    if (ex instanceof UsageException) {
      return USAGE;
    }
    if (ex instanceof HalfBisectException h) {
      return h.kind() == HalfBisectException.Kind.USAGE ? USAGE : MODEL_OR_BACKEND;
    }
    if (ex instanceof UnknownNameException) {
      return USAGE;
    }
    if (ex instanceof OnnxModelException) {
      return MODEL_OR_BACKEND;
    }
    if (ex instanceof IllegalArgumentException) {
      return USAGE;
    }
    return MODEL_OR_BACKEND;
  }

  private static String message(Throwable ex) {
    if (ex instanceof UncheckedIOException && ex.getCause() != null) {
      return ex.getMessage();
    }
    String m = ex.getMessage();
    return m == null || m.isBlank() ? ex.toString() : m;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).trim();
  }
}
