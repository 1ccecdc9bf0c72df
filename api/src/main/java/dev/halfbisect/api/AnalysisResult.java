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

  private final java.util.List<Object> details;

  /**
   * @param details the bisect module's results behind this one, for {@link #unwrap}
   */
  AnalysisResult(AnalysisReport report, Object... details) {
    this.report = report;
    this.details = java.util.Arrays.stream(details).filter(d -> d != null).toList();
  }

  /**
   * The bisect module's own result of the given type behind this one (e.g. {@code
   * dev.halfbisect.bisect.Layerwise.Result} with per-sample statistics), for tools that need more
   * than the api types. Those types belong to the engine and may change between versions; the api's
   * own types ({@link TensorResult}, {@link Divergence}, {@link NodeAmplification}) do not.
   */
  public <T> java.util.Optional<T> unwrap(Class<T> type) {
    return details.stream().filter(type::isInstance).map(type::cast).findFirst();
  }

  /** Whether the candidate passed (for {@code precision}: whether a passing plan was found). */
  public boolean passed() {
    return report.passed();
  }

  /** The report as the stable JSON document. */
  public String toJson() {
    return report.toJson();
  }

  /**
   * Writes the HTML report to {@code htmlFile} (its folder is created) and returns the path.
   *
   * @throws IllegalArgumentException when the file is null or named other than {@code .html}/{@code
   *     .htm} (HTML went silently into a {@code .json} file; {@link #toJson} is the JSON)
   */
  public Path writeReport(Path htmlFile) {
    if (htmlFile == null) {
      throw new IllegalArgumentException("writeReport needs the HTML file to write, got null");
    }
    String name = htmlFile.getFileName() == null ? "" : htmlFile.getFileName().toString();
    if (!name.toLowerCase(java.util.Locale.ROOT).matches(".*\\.html?")) {
      throw new IllegalArgumentException(
          "writeReport writes HTML: give a .html file, not "
              + htmlFile
              + " (toJson() is the JSON)");
    }
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
