package dev.halfbisect.api;

import java.nio.file.Path;

/**
 * What every analysing operation returns: the verdict, the report as JSON (the stable
 * {@code halfbisect/1} document) and as an HTML page. Subclasses add typed accessors.
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
    return report.writeHtml(htmlFile);
  }

  /** The report view model, renderable as console text, Markdown, HTML and JSON. */
  public AnalysisReport report() {
    return report;
  }

  /** Number of candidate builds the operation made. */
  public int builds() {
    return report.json().path("builds").asInt();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + report + "]";
  }
}
