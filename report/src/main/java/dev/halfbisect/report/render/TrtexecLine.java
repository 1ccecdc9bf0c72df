package dev.halfbisect.report.render;

import dev.halfbisect.report.model.AnalysisReport;
import java.util.regex.Pattern;

/**
 * The trtexec command of a report's fix, ready to paste into a POSIX shell: {@code --onnx=} names
 * the model as it was given (its path, not a display name) and every word that needs it is
 * single-quoted (issue 17). Console, Markdown and HTML print this same line, never wrapped.
 */
public final class TrtexecLine {
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_./:=,@%+-]+");

  private TrtexecLine() {}

  /** {@code trtexec --onnx=MODEL FLAGS}, or null when the report has no trtexec flags. */
  public static String of(AnalysisReport r) {
    if (r.trtexecFlags() == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder("trtexec ").append(quote("--onnx=" + r.model()));
    for (String word : r.trtexecFlags().trim().split(" +")) {
      if (!word.isEmpty()) {
        sb.append(' ').append(quote(word));
      }
    }
    return sb.toString();
  }

  /** {@code word} as one shell word: as is when only safe characters, else single-quoted. */
  public static String quote(String word) {
    if (!word.isEmpty() && SAFE.matcher(word).matches()) {
      return word;
    }
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
