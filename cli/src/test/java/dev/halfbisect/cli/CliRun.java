package dev.halfbisect.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs the command line in-process with captured stdout/stderr. */
record CliRun(int exit, String out, String err) {
  static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new CliRun(code, out.toString(), err.toString());
  }

  /** {@code COMMAND MODEL --reference REFERENCE --candidate CANDIDATE --quiet EXTRA...}. */
  static CliRun analyse(
      String command, Path model, String reference, String candidate, List<String> extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                command,
                model.toString(),
                "--reference",
                reference,
                "--candidate",
                candidate,
                "--quiet"));
    args.addAll(extra);
    if (WRITES_FILES.contains(command)
        && extra.stream().noneMatch(a -> a.equals("--out") || a.startsWith("--out="))) {
      // not the default halfbisect-out/ in the module folder: its journal would resume the next
      // run of the same model (and a later test run) from this one's probes; target/ is cleaned
      try {
        Path target = Files.createDirectories(Path.of("target"));
        args.addAll(List.of("--out", Files.createTempDirectory(target, "cli-out-").toString()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return of(args.toArray(String[]::new));
  }

  /** Commands that write files under --out, by default under halfbisect-out/. */
  private static final List<String> WRITES_FILES = List.of("precision", "reduce", "diagnose");

  /** {@link #analyse} with the Java interpreter on both sides. */
  static CliRun onInterpreter(String command, Path model, List<String> extra) {
    return analyse(command, model, "interp:fp32", "interp:fp16-emulated", extra);
  }

  static CliRun onInterpreter(String command, Path model, String... extra) {
    return onInterpreter(command, model, List.of(extra));
  }

  /** stderr without its trailing newline; asserts it is one line in the callers. */
  String errLine() {
    return err.strip();
  }
}
