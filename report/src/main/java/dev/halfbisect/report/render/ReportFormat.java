package dev.halfbisect.report.render;

import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.report.model.AnalysisReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The output formats of a report, chosen by file extension for the CLI ({@code --json}, {@code
 * report --html ...}).
 */
public enum ReportFormat {
  /** The {@code halfbisect/1} document. */
  JSON(".json"),
  /** One self-contained HTML page. */
  HTML(".html"),
  /** GitHub-flavoured Markdown. */
  MARKDOWN(".md"),
  /** The plain-text console summary. */
  TEXT(".txt");

  private final String extension;

  ReportFormat(String extension) {
    this.extension = extension;
  }

  public String extension() {
    return extension;
  }

  /** The format a file name asks for: .json, .html/.htm, .md/.markdown, .txt. */
  public static ReportFormat forFile(Path file) {
    String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".json")) {
      return JSON;
    }
    if (n.endsWith(".html") || n.endsWith(".htm")) {
      return HTML;
    }
    if (n.endsWith(".md") || n.endsWith(".markdown")) {
      return MARKDOWN;
    }
    if (n.endsWith(".txt")) {
      return TEXT;
    }
    throw new IllegalArgumentException(
        "cannot tell the report format of "
            + file
            + ": use a name ending in .json, .html, .md or .txt");
  }

  /** The report in this format. */
  public String render(AnalysisReport r) {
    return switch (this) {
      case JSON -> r.toJson();
      case HTML -> HtmlRenderer.render(r);
      case MARKDOWN -> MarkdownRenderer.render(r);
      case TEXT -> ConsoleRenderer.render(r);
    };
  }

  /**
   * Writes the report to {@code file} in the format its extension names, creating parent folders.
   */
  public static Path write(AnalysisReport r, Path file) throws IOException {
    ReportFormat f = forFile(file);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    SafeFiles.writeString(file, f.render(r));
    return file;
  }
}
