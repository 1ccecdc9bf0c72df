package dev.halfbisect.cli;

import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.render.ConsoleRenderer;
import dev.halfbisect.report.render.HtmlRenderer;
import dev.halfbisect.report.render.MarkdownRenderer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Re-renders a JSON report as console text, and with --out as HTML and Markdown. */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description =
        "Re-render a report (the --json file, or an HTML report's embedded JSON) as console text;"
            + " with --out also report.html and report.md.")
final class ReportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "REPORT.json|REPORT.html")
  Path json;

  @Option(names = "--out", paramLabel = "DIR", description = "write report.html and report.md here")
  Path out;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    AnalysisOptions.requireFile(json, "report");
    AnalysisReport r;
    try {
      r = AnalysisReport.read(json); // a .json file or the JSON embedded in an HTML report
    } catch (IOException e) {
      throw new UsageException("cannot read " + json + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw new UsageException(json + ": " + e.getMessage());
    }
    spec.commandLine().getOut().print(ConsoleRenderer.render(r));
    if (out != null) {
      Reports.write(out.resolve("report.html"), HtmlRenderer.render(r));
      Reports.write(out.resolve("report.md"), MarkdownRenderer.render(r));
      spec.commandLine().getOut().println("HTML report: " + out.resolve("report.html"));
    }
    return r.passed() ? Main.PASS : Main.ACCURACY_FAILURE;
  }
}
