package dev.halfbisect.report.render;

import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.report.blocks.BlockTable;
import dev.halfbisect.report.blocks.BlockTable.Column;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.FirstFailing;
import dev.halfbisect.report.model.GroupStat;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.ReduceSection;
import dev.halfbisect.report.model.ReportJson;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.model.TensorRow;
import dev.halfbisect.report.text.Fmt;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One self-contained HTML file: inline CSS, inline SVG charts, no script except the embedded {@code
 * halfbisect/1} JSON document (type {@code application/json}, never executed), which {@link
 * AnalysisReport#read(Path)} reads back. The markup is XHTML-compatible (every element closed,
 * attributes quoted, no named entities) so an XML parser accepts it; every name from the model is
 * escaped.
 */
public final class HtmlRenderer {
  private static final int TOP_AMPLIFIERS = 15;
  private static final int TOP_GROUPS = 15;

  private static final String CSS =
      String.join(
          "\n",
          "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0;"
              + "background:#f7fafc;color:#1a202c;font-size:14px}",
          "main{max-width:1280px;margin:0 auto;padding:20px 28px 40px}",
          "h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #cbd5e0;"
              + "padding-bottom:4px}",
          ".meta{color:#4a5568;margin:2px 0}.meta b{color:#1a202c}",
          ".badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:700;"
              + "font-size:13px;vertical-align:middle;margin-left:8px}",
          ".pass{background:#2f855a}.fail{background:#c53030}",
          ".cards{display:flex;gap:14px;flex-wrap:wrap;margin-top:14px}",
          ".card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px;flex:1 1 220px;"
              + "min-width:0}",
          ".card h3{margin:0 0 6px;font-size:13px;text-transform:uppercase;color:#718096;letter-spacing:.04em}",
          ".card .big{font-size:18px;font-weight:700}",
          "code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}",
          "code{overflow-wrap:anywhere}",
          "pre{background:#1a202c;color:#e2e8f0;padding:10px 12px;border-radius:6px;white-space:pre-wrap;"
              + "word-break:break-all}",
          "table{border-collapse:collapse;background:#fff;margin:6px 0}",
          "th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}",
          "th{background:#edf2f7;font-weight:600}",
          "td.num{text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace}",
          "table.heat td.num{min-width:76px;text-align:center}",
          "td.node{min-width:260px;max-width:420px}",
          "td.bad{font-weight:700}td.inf{background:#742a2a;color:#fff}",
          "tr.ff td{background:#fff5f5}",
          ".chart{width:100%;height:auto;background:#fff;border:1px solid #e2e8f0;border-radius:8px}",
          ".chart.bars{max-width:900px}",
          ".grid{stroke:#e2e8f0;stroke-width:1}.axis{stroke:#4a5568;stroke-width:1}",
          ".one{stroke:#4a5568;stroke-width:1;stroke-dasharray:3 3}",
          ".tick{font-size:11px;fill:#4a5568}.blk{font-size:10px;fill:#718096}",
          ".tol{stroke:#dd6b20;stroke-width:1.5;stroke-dasharray:6 4}.tollabel{font-size:12px;fill:#c05621}",
          ".errline{fill:none;stroke:#a0aec0;stroke-width:1}",
          ".ffline{stroke:#c53030;stroke-width:1;stroke-dasharray:2 3}",
          ".ffmark{fill:none;stroke:#c53030;stroke-width:2.5}.fflabel{font-size:12px;fill:#c53030;font-weight:700}",
          ".lbl{font-size:12px;fill:#2d3748}.val{font-size:11px;fill:#4a5568}",
          ".cause{display:inline-block;padding:1px 8px;border-radius:8px;font-size:12px;font-weight:700;color:#fff}",
          ".c-overflow{background:#c53030}.c-underflow{background:#6b46c1}",
          ".c-rounding-accumulation{background:#b7791f}.c-amplified{background:#2b6cb0}",
          "ul.sugg{margin:4px 0 0;padding-left:18px}",
          ".legend span{display:inline-block;width:60px;text-align:center;font-size:11px;padding:2px 0}",
          "details{margin:8px 0}summary{cursor:pointer;color:#2b6cb0}",
          ".note{color:#718096;font-size:12px}");

  private HtmlRenderer() {}

  /** Writes the report as one HTML file. */
  public static Path write(AnalysisReport r, Path file) throws IOException {
    SafeFiles.writeString(file, render(r));
    return file;
  }

  public static String render(AnalysisReport r) {
    StringBuilder h = new StringBuilder(64 * 1024);
    String title = "halfbisect " + r.command() + ": " + r.model();
    h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
        .append(
            "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        .append("<title>")
        .append(Html.esc(title))
        .append("</title>\n<style>\n")
        .append(CSS)
        .append("\n</style>\n</head>\n<body>\n<main>\n");
    header(h, r);
    cards(h, r);
    if (!r.tensorsOrEmpty().isEmpty()) {
      h.append("<h2 id=\"error-chart\">Error along the topological order</h2>\n");
      h.append(
          SvgCharts.errorAlongTopo(
              r.tensorsOrEmpty(),
              r.tolerance().limitOrDefault(),
              r.firstFailing() == null ? null : r.firstFailing().tensor()));
      boolean nonFinite =
          r.tensorsOrEmpty().stream().anyMatch(t -> !Double.isFinite(t.normalizedError()));
      h.append(
              "<p class=\"note\">Normalized error ||c - r|| / ||r|| of every observed tensor, log scale; red points fail")
          .append(nonFinite ? "; triangles on the top edge: inf/NaN in the candidate" : "")
          .append("; hover a point for its name.</p>\n");
      blockTable(h, r);
    }
    firstDivergence(h, r);
    amplification(h, r);
    precision(h, r);
    PriceBlock.html(h, r.price()); // issue 20
    rootCauses(h, r);
    reduce(h, r);
    EvidenceSections.html(h, r); // issue 15
    warnings(h, r);
    allTensors(h, r);
    timings(h, r);
    h.append("<p class=\"note\">The ")
        .append(Html.esc(AnalysisReport.SCHEMA))
        .append(
            " JSON document of this report is embedded in this file (script element halfbisect-report); "
                + "<code>halfbisect report FILE.html</code> re-renders it.</p>\n");
    h.append("</main>\n")
        .append(ReportJson.HTML_SCRIPT_OPEN)
        .append('\n')
        .append(ReportJson.writeHtmlSafe(r))
        .append("\n</script>\n</body>\n</html>\n");
    return h.toString();
  }

  private static void header(StringBuilder h, AnalysisReport r) {
    h.append("<h1>halfbisect ")
        .append(Html.esc(r.command()))
        .append(" <span class=\"badge ")
        .append(r.passed() ? "pass\">PASS" : "fail\">FAIL")
        .append("</span></h1>\n");
    h.append("<p class=\"meta\">model <b class=\"mono\">")
        .append(Html.esc(r.model()))
        .append("</b></p>\n");
    h.append("<p class=\"meta\">reference <b>")
        .append(Html.esc(r.backend().reference()))
        .append("</b>, candidate <b>")
        .append(Html.esc(r.backend().candidate()))
        .append("</b>, candidate builds <b>")
        .append(r.builds())
        .append("</b></p>\n");
    h.append("<p class=\"meta\">tolerance: ")
        .append(Html.esc(r.tolerance().description()))
        .append("</p>\n");
  }

  private static void cards(StringBuilder h, AnalysisReport r) {
    h.append("<div class=\"cards\">\n");
    FirstFailing ff = r.firstFailing();
    h.append("<div class=\"card\"><h3>First divergence</h3>");
    if (ff == null) {
      h.append(
          r.tensors() == null
              ? "<span class=\"note\">not searched by this command</span>"
              : "<span class=\"big\">none</span> <span class=\"note\">"
                  + (r.passed() ? "every observed tensor passes" : "no observed tensor fails")
                  + "</span>");
    } else {
      h.append("<div class=\"big mono\">")
          .append(Html.esc(ff.node()))
          .append("</div><div>")
          .append(Html.esc(ff.opType()));
      if (ff.error() != null) {
        h.append(", normalized error <b>").append(Fmt.sci(ff.error())).append("</b>");
      }
      h.append("</div>");
    }
    h.append("</div>\n");
    List<NodeRow> top = Ranking.topAmplifiers(r, 1);
    if (!top.isEmpty()) {
      NodeRow n = top.get(0);
      h.append("<div class=\"card\"><h3>Strongest amplifier</h3><div class=\"big mono\">")
          .append(Html.esc(n.node()))
          .append("</div><div>")
          .append(Html.esc(n.opType()))
          .append(", <b>")
          .append(Fmt.times(n.amplification()))
          .append("</b> (")
          .append(Fmt.sci(n.inputError()))
          .append(" to ")
          .append(Fmt.sci(n.outputError()))
          .append(")</div></div>\n");
    }
    if (r.fp32Nodes() != null) {
      h.append("<div class=\"card\"><h3>FP32 set</h3><div class=\"big\">")
          .append(r.fp32Nodes().size())
          .append(r.fp32Nodes().size() == 1 ? " node" : " nodes")
          .append("</div><div>");
      if (r.fp16Fraction() != null) {
        h.append(Html.esc(Fmt.percent(r.fp16Fraction())))
            .append(" of float nodes stay ")
            .append(r.backend().candidateType());
      }
      h.append("</div></div>\n");
    }
    if (r.rootCauses() != null && !r.rootCauses().isEmpty()) {
      RootCause c = r.rootCauses().get(0);
      h.append("<div class=\"card\"><h3>Main root cause</h3><span class=\"cause c-")
          .append(c.cause().word())
          .append("\">")
          .append(c.cause().word())
          .append("</span> <span class=\"mono\">")
          .append(Html.esc(c.node()))
          .append("</span></div>\n");
    }
    h.append("</div>\n");
  }

  private static String heatStyle(double e, double limit) {
    double t = (Math.log10(Math.max(e, 1e-30)) - Math.log10(limit) + 2) / 4;
    t = Math.max(0, Math.min(1, t));
    return String.format(
        Locale.ROOT, "background:hsl(%.0f,70%%,%.0f%%)", 120 * (1 - t), 82 - 12 * t);
  }

  private static void blockTable(StringBuilder h, AnalysisReport r) {
    BlockTable t = BlockTable.of(r.tensorsOrEmpty());
    if (t.isEmpty()) {
      return;
    }
    double limit = r.tolerance().limitOrDefault();
    h.append(
        "<h2 id=\"blocks\">Blocks x checkpoints</h2>\n<table class=\"heat\"><thead><tr><th>block</th>");
    for (Column c : Column.values()) {
      h.append("<th>").append(Html.esc(c.title())).append("</th>");
    }
    h.append("</tr></thead><tbody>\n");
    for (String b : t.blocks()) {
      h.append("<tr><th class=\"mono\">").append(Html.esc(b)).append("</th>");
      for (Column c : Column.values()) {
        var cell = t.cell(b, c);
        if (cell.isEmpty()) {
          h.append("<td class=\"num\">-</td>");
          continue;
        }
        double e = cell.get().error();
        String cls = "num" + (cell.get().pass() ? "" : " bad") + (Double.isFinite(e) ? "" : " inf");
        h.append("<td class=\"").append(cls).append("\"");
        if (Double.isFinite(e)) {
          h.append(" style=\"").append(heatStyle(e, limit)).append("\"");
        }
        h.append(" title=\"")
            .append(Html.esc(cell.get().tensor()))
            .append("\">")
            .append(Fmt.sci(e))
            .append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append(
        "</tbody></table>\n<p class=\"legend note\">normalized error per block and checkpoint; colour from ");
    for (int d = -2; d <= 2; d++) {
      double v = limit * Math.pow(10, d);
      h.append("<span style=\"")
          .append(heatStyle(v, limit))
          .append("\">")
          .append(Fmt.sci(v))
          .append("</span>");
    }
    h.append(
        " (tolerance in the middle); bold cells fail. Checkpoints are found from node names and op types "
            + "(see BlockTable).</p>\n");
  }

  private static void firstDivergence(StringBuilder h, AnalysisReport r) {
    FirstFailing ff = r.firstFailing();
    if (ff == null) {
      return;
    }
    h.append("<h2 id=\"first-divergence\">First divergence</h2>\n<table><tbody>\n");
    row(h, "tensor", "<code>" + Html.esc(ff.tensor()) + "</code>");
    row(h, "node", "<code>" + Html.esc(ff.node()) + "</code> (" + Html.esc(ff.opType()) + ")");
    if (ff.error() != null) {
      row(h, "normalized error", Fmt.sci(ff.error()));
    }
    if (ff.inputErrors() != null && !ff.inputErrors().isEmpty()) {
      row(
          h,
          "input errors",
          ff.inputErrors().stream()
              .map(i -> "<code>" + Html.esc(i.tensor()) + "</code>: " + Fmt.sci(i.error()))
              .collect(Collectors.joining("<br/>")));
    }
    h.append("</tbody></table>\n");
  }

  private static void row(StringBuilder h, String key, String htmlValue) {
    h.append("<tr><th>")
        .append(Html.esc(key))
        .append("</th><td>")
        .append(htmlValue)
        .append("</td></tr>\n");
  }

  private static void amplification(StringBuilder h, AnalysisReport r) {
    if (r.nodes() == null) {
      return;
    }
    h.append("<h2 id=\"amplification\">Amplification</h2>\n");
    groupBars(h, r.byOpType(), "by op type");
    groupBars(h, r.byMotif(), "by motif");
    List<NodeRow> top = Ranking.topAmplifiers(r, TOP_AMPLIFIERS);
    if (top.isEmpty()) {
      return;
    }
    h.append(
        "<table><thead><tr><th>node</th><th>op</th><th>motif</th><th>local error</th><th>input error</th>"
            + "<th>output error</th><th>amplification</th></tr></thead><tbody>\n");
    String ff = r.firstFailing() == null ? null : r.firstFailing().node();
    for (NodeRow n : top) {
      h.append(n.node().equals(ff) ? "<tr class=\"ff\">" : "<tr>")
          .append("<td><code>")
          .append(Html.esc(n.node()))
          .append("</code></td><td>")
          .append(Html.esc(n.opType()))
          .append("</td><td>")
          .append(Html.esc(n.motif() == null ? "" : n.motif()))
          .append("</td><td class=\"num\">")
          .append(Fmt.sci(n.localError()))
          .append("</td><td class=\"num\">")
          .append(Fmt.sci(n.inputError()))
          .append("</td><td class=\"num\">")
          .append(Fmt.sci(n.outputError()))
          .append("</td><td class=\"num\">")
          .append(Fmt.times(n.amplification()))
          .append("</td></tr>\n");
    }
    h.append(
        "</tbody></table>\n<p class=\"note\">Local error: the node's FP16 copy fed FP32 inputs; "
            + "amplification: output error / worst input error in the full FP16 run.</p>\n");
  }

  private static void groupBars(StringBuilder h, Map<String, GroupStat> groups, String what) {
    if (groups == null || groups.isEmpty()) {
      return;
    }
    List<SvgCharts.Bar> bars =
        Ranking.topGroups(groups, TOP_GROUPS).stream()
            .map(
                e ->
                    new SvgCharts.Bar(
                        e.getKey(),
                        e.getValue().maxAmplification(),
                        "max "
                            + Fmt.times(e.getValue().maxAmplification())
                            + ", mean "
                            + Fmt.times(e.getValue().meanAmplification())
                            + ", n="
                            + e.getValue().count()))
            .collect(Collectors.toList());
    h.append("<h3>")
        .append(Html.esc(what))
        .append("</h3>\n")
        .append(SvgCharts.amplificationBars(bars, "amplification " + what));
  }

  private static void precision(StringBuilder h, AnalysisReport r) {
    if (r.fp32Nodes() == null) {
      return;
    }
    h.append("<h2 id=\"fp32-set\">FP32 set found</h2>\n<p>")
        .append(r.fp32Nodes().size())
        .append(" ONNX node")
        .append(r.fp32Nodes().size() == 1 ? "" : "s")
        .append(" kept in FP32");
    if (r.fp16Fraction() != null) {
      h.append("; ")
          .append(Html.esc(Fmt.percent(r.fp16Fraction())))
          .append(" of float nodes stay ")
          .append(r.backend().candidateType());
    }
    h.append(".</p>\n<ul>\n");
    for (String n : r.fp32Nodes()) {
      h.append("<li><code>").append(Html.esc(n)).append("</code></li>\n");
    }
    h.append("</ul>\n");
    if (r.trtexecFlags() != null) {
      h.append("<p>Build the same engine with trtexec:</p>\n<pre>")
          .append(Html.esc(TrtexecLine.of(r)))
          .append("</pre>\n");
    }
    if (r.plan() != null) {
      h.append("<p class=\"note\">plan: default ")
          .append(Html.esc(r.plan().defaultPrecision()))
          .append(", I/O ")
          .append(Html.esc(r.plan().ioPolicy()))
          .append(" (halfbisect --plan plan.json)</p>\n");
    }
  }

  private static void rootCauses(StringBuilder h, AnalysisReport r) {
    if (r.rootCauses() == null || r.rootCauses().isEmpty()) {
      return;
    }
    h.append(
        "<h2 id=\"root-causes\">Root causes and fixes</h2>\n<table><thead><tr><th>node</th><th>class</th><th>evidence and suggestions</th>"
            + "</tr></thead><tbody>\n");
    for (RootCause c : r.rootCauses()) {
      h.append("<tr><td class=\"node\"><code>")
          .append(Html.esc(c.node()))
          .append("</code><br/><span class=\"note\">")
          .append(Html.esc(c.opType()))
          .append("</span></td><td><span class=\"cause c-")
          .append(c.cause().word())
          .append("\">")
          .append(c.cause().word())
          .append("</span></td><td>")
          .append(Html.esc(c.evidence()))
          .append("<ul class=\"sugg\">");
      for (String s : c.suggestions()) {
        h.append("<li>").append(Html.esc(s)).append("</li>");
      }
      h.append("</ul></td></tr>\n");
    }
    h.append("</tbody></table>\n");
  }

  private static void reduce(StringBuilder h, AnalysisReport r) {
    ReduceSection s = r.reduce();
    if (s == null) {
      return;
    }
    h.append("<h2 id=\"reduce\">Reduced model</h2>\n<table><tbody>\n");
    row(h, "nodes", s.reducedNodes() + " of " + s.originalNodes());
    row(
        h,
        "inputs",
        s.inputs().stream()
            .map(i -> "<code>" + Html.esc(i) + "</code>")
            .collect(Collectors.joining(", ")));
    row(
        h,
        "outputs",
        s.outputs().stream()
            .map(i -> "<code>" + Html.esc(i) + "</code>")
            .collect(Collectors.joining(", ")));
    if (s.files() != null) {
      s.files().forEach((k, v) -> row(h, k, "<code>" + Html.esc(v) + "</code>"));
    }
    h.append("</tbody></table>\n");
  }

  private static void warnings(StringBuilder h, AnalysisReport r) {
    if (r.warnings() == null || r.warnings().isEmpty()) {
      return;
    }
    h.append("<h2 id=\"warnings\">Warnings</h2>\n<ul>\n");
    r.warnings().forEach(w -> h.append("<li>").append(Html.esc(w)).append("</li>\n"));
    h.append("</ul>\n");
  }

  private static void allTensors(StringBuilder h, AnalysisReport r) {
    if (r.tensors() == null || r.tensors().isEmpty()) {
      return;
    }
    h.append("<details id=\"tensors\"><summary>All ")
        .append(r.tensors().size())
        .append(" observed tensors</summary>\n")
        .append(
            "<table><thead><tr><th>#</th><th>tensor</th><th>node</th><th>op</th><th>normalized error</th>"
                + "<th>max abs</th><th>verdict</th></tr></thead><tbody>\n");
    String ff = r.firstFailing() == null ? null : r.firstFailing().tensor();
    int i = 0;
    for (TensorRow t : r.tensors()) {
      h.append(t.name().equals(ff) ? "<tr class=\"ff\">" : "<tr>")
          .append("<td class=\"num\">")
          .append(i++)
          .append("</td><td><code>")
          .append(Html.esc(t.name()))
          .append("</code></td><td><code>")
          .append(Html.esc(t.node()))
          .append("</code></td><td>")
          .append(Html.esc(t.opType()))
          .append("</td><td class=\"num\">")
          .append(Fmt.sci(t.normalizedError()))
          .append("</td><td class=\"num\">")
          .append(Fmt.sci(t.maxAbs()))
          .append("</td><td>")
          .append(t.verdict())
          .append("</td></tr>\n");
    }
    h.append("</tbody></table>\n</details>\n");
  }

  private static void timings(StringBuilder h, AnalysisReport r) {
    if (r.timings() == null || r.timings().isEmpty()) {
      return;
    }
    h.append("<p class=\"note\">timings: ")
        .append(
            Html.esc(
                r.timings().entrySet().stream()
                    .map(e -> e.getKey() + " " + Fmt.num(e.getValue()))
                    .collect(Collectors.joining(", "))))
        .append("</p>\n");
  }
}
