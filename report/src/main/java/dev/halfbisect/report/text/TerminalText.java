package dev.halfbisect.report.text;

/**
 * Makes model-supplied strings (node, tensor, initializer names, messages quoting them) safe to
 * print on a terminal or in Markdown: an ONNX name can hold ESC sequences that clear the screen or
 * repaint FAIL as PASS. Every C0/C1 control character (newline, tab and ESC included) becomes
 * {@code \xHH}; bidirectional overrides and the Unicode line/paragraph separators become {@code
 * \\uHHHH}, so a name cannot reorder or split a line either. Other text is unchanged. HTML and JSON
 * have their own escaping.
 */
public final class TerminalText {
  private TerminalText() {}

  /** {@code s} with control characters escaped; null stays null. */
  public static String escape(String s) {
    if (s == null || isClean(s)) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (isControl(c)) {
        b.append(String.format(java.util.Locale.ROOT, "\\x%02x", (int) c));
      } else if (isInvisibleFormat(c)) {
        b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * Like {@link #escape} but keeps {@code \n}: for a whole rendered document whose line breaks are
   * the renderer's own (names' line breaks were replaced before).
   */
  public static String escapeKeepingNewlines(String s) {
    if (s == null || isClean(s.replace('\n', ' '))) {
      return s;
    }
    String[] lines = s.split("\n", -1);
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < lines.length; i++) {
      if (i > 0) {
        b.append('\n');
      }
      b.append(escape(lines[i]));
    }
    return b.toString();
  }

  private static boolean isClean(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (isControl(c) || isInvisibleFormat(c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isControl(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
  }

  /** Bidi embeddings/overrides/isolates and the line and paragraph separators. */
  private static boolean isInvisibleFormat(char c) {
    return (c >= 0x202a && c <= 0x202e)
        || (c >= 0x2066 && c <= 0x2069)
        || c == 0x2028
        || c == 0x2029
        || c == 0x200e
        || c == 0x200f;
  }
}
