package dev.halfbisect.cli;

import dev.halfbisect.report.text.TerminalText;
import java.io.FilterWriter;
import java.io.IOException;
import java.io.Writer;

/**
 * Standard output of every subcommand goes through here (issue 16): control characters other than
 * the line break are escaped ({@link TerminalText}), so a model-supplied name printed by any
 * command ({@code inspect}, {@code surgeon}, the reports) cannot drive the terminal. Text that was
 * escaped already passes unchanged.
 */
final class TerminalSafeWriter extends FilterWriter {
  TerminalSafeWriter(Writer out) {
    super(out);
  }

  @Override
  public void write(int c) throws IOException {
    write(String.valueOf((char) c), 0, 1);
  }

  @Override
  public void write(char[] buf, int off, int len) throws IOException {
    write(new String(buf, off, len), 0, len);
  }

  @Override
  public void write(String s, int off, int len) throws IOException {
    String safe = TerminalText.escapeKeepingNewlines(s.substring(off, off + len));
    out.write(safe, 0, safe.length());
  }
}
