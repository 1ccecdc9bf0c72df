package dev.halfbisect.cli;

import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.core.io.UnsafeTargetException;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.HtmlRenderer;
import dev.halfbisect.report.render.MarkdownRenderer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Writes report files, each through {@link SafeFiles} (temp file + atomic rename). */
final class Reports {
  /** The report files {@link #writeAll} writes. */
  static final String[] FILES = {"report.json", "report.md", "report.html"};

  private Reports() {}

  /** Writes report.html, report.json and report.md into {@code dir}; returns the HTML path. */
  static Path writeAll(AnalysisReport report, Path dir) {
    write(dir.resolve("report.json"), report.toJson());
    write(dir.resolve("report.md"), MarkdownRenderer.render(report));
    Path html = dir.resolve("report.html");
    write(html, HtmlRenderer.render(report));
    return html;
  }

  static void write(Path file, String text) {
    try {
      SafeFiles.writeString(file, text);
    } catch (UnsafeTargetException e) {
      throw new UsageException(e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + Failures.reason(e), e);
    }
  }
}
