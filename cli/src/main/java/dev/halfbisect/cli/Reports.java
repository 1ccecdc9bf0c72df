package dev.halfbisect.cli;

import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.HtmlRenderer;
import dev.halfbisect.report.render.MarkdownRenderer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes report files. */
final class Reports {
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
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
