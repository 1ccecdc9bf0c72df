package dev.halfbisect.api;

import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.HtmlRenderer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * What every analysing operation returns: the verdict and the report (the report module's {@link
 * AnalysisReport}, serialized as the stable {@code halfbisect/1} JSON and rendered as HTML).
 * Subclasses add the typed results of the bisect module.
 */
public abstract class AnalysisResult {
  private final AnalysisReport report;

  AnalysisResult(AnalysisReport report) {
    this.report = report;
  }

  /** Whether the candidate passed (for {@code precision}: whether a passing plan was found). */
  public boolean passed() {
    return report.passed();
  }

  /** The report as the stable JSON document. */
  public String toJson() {
    return report.toJson();
  }

  /** Writes the HTML report to {@code htmlFile} (its folder is created) and returns the path. */
  public Path writeReport(Path htmlFile) {
    try {
      Path parent = htmlFile.toAbsolutePath().getParent();
      if (parent != null) {
        java.nio.file.Files.createDirectories(parent);
      }
      return HtmlRenderer.write(report, htmlFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + htmlFile + ": " + e.getMessage(), e);
    }
  }

  /** The report view model, renderable as console text, Markdown, HTML and JSON. */
  public AnalysisReport report() {
    return report;
  }

  /** Number of candidate builds the operation made. */
  public int builds() {
    return report.builds();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + report.verdict() + ", " + report.command() + "]";
  }
}
