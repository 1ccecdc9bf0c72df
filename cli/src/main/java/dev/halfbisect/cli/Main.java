package dev.halfbisect.cli;

import java.io.PrintWriter;
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
    InterruptionNotice.install(err); // Ctrl-C or kill: say what the journal holds
    int code = execute(args, out, err);
    InterruptionNotice.finished();
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
    if (verbose && System.getProperty("halfbisect.ort.logLevel") == null) {
      // ONNX Runtime's own log lines only on request (issue 16); read when ORT first loads.
      System.setProperty("halfbisect.ort.logLevel", "warning");
    }
    CommandLine cl = new CommandLine(new HalfBisectCommand());
    cl.setOut(new PrintWriter(new TerminalSafeWriter(out), true));
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          // picocli words some messages "Error: ..." (argument groups): one prefix is enough
          String msg = Failures.firstLine(ex.getMessage()).replaceFirst("^Error: ", "");
          // the whole path of a nested subcommand: 'halfbisect surgeon mark --help'
          String cmd = ex.getCommandLine().getCommandSpec().qualifiedName(" ");
          err.println("halfbisect: " + msg + " (see '" + cmd + " --help')");
          if (verbose) {
            ex.printStackTrace(err);
          }
          return USAGE;
        });
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex, err, verbose));
    int code;
    try {
      code = cl.execute(args);
    } catch (OutOfMemoryError | StackOverflowError e) {
      // Errors escape picocli's handler; an out-of-memory must still be exit 3 with a remedy.
      code = report(e, err, verbose);
    }
    cl.getOut().flush();
    out.flush();
    err.flush();
    return code;
  }

  private static int report(Throwable ex, PrintWriter err, boolean verbose) {
    int code = Failures.exitCode(ex);
    err.println("halfbisect: " + (code == USAGE ? "" : "error: ") + Failures.message(ex));
    if (verbose) {
      ex.printStackTrace(err);
    }
    return code;
  }
}
