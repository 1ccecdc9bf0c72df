package dev.halfbisect.report.render;

import dev.halfbisect.report.model.PriceSection;
import dev.halfbisect.report.text.Fmt;
import java.util.ArrayList;
import java.util.List;

/** Issue 20: the plan price block of the console, Markdown and HTML reports. */
final class PriceBlock {
  private PriceBlock() {}

  static List<String> lines(PriceSection p) {
    List<String> out = new ArrayList<>();
    out.add(
        "Price (batch "
            + p.batch()
            + ", "
            + p.clock()
            + "): FP32 "
            + Fmt.num(p.fp32Ms())
            + " ms, FP16 "
            + Fmt.num(p.fp16Ms())
            + " ms, plan "
            + Fmt.num(p.planMs())
            + " ms: "
            + p.sentence());
    if (p.plans().size() > 1) {
      for (PriceSection.PlanPrice pp : p.plans()) {
        out.add(
            "  "
                + (pp.preferred() ? "* " : "  ")
                + pp.name()
                + ": "
                + pp.fp32Nodes()
                + " FP32 nodes, "
                + Fmt.num(pp.latencyMs())
                + " ms");
      }
    }
    if (p.note() != null) {
      out.add("  " + p.note());
    }
    return out;
  }

  static void console(List<String> out, PriceSection p) {
    if (p != null) {
      out.add("");
      out.addAll(lines(p));
    }
  }

  static void markdown(StringBuilder m, PriceSection p) {
    if (p == null) {
      return;
    }
    m.append("\n## Price of the plan\n\n");
    m.append(MarkdownRenderer.text(lines(p).get(0))).append("\n\n");
    m.append("| plan | FP32 nodes | latency ms | preferred |\n|---|---|---|---|\n");
    m.append("| all FP32 | all | ").append(Fmt.num(p.fp32Ms())).append(" | |\n");
    m.append("| all FP16 | 0 | ").append(Fmt.num(p.fp16Ms())).append(" | |\n");
    for (PriceSection.PlanPrice pp : p.plans()) {
      m.append("| ")
          .append(MarkdownRenderer.text(pp.name()))
          .append(" | ")
          .append(pp.fp32Nodes())
          .append(" | ")
          .append(Fmt.num(pp.latencyMs()))
          .append(" | ")
          .append(pp.preferred() ? "yes" : "")
          .append(" |\n");
    }
    if (p.note() != null) {
      m.append('\n').append(MarkdownRenderer.text(p.note())).append('\n');
    }
  }

  static void html(StringBuilder h, PriceSection p) {
    if (p == null) {
      return;
    }
    h.append("<h2>Price of the plan</h2>\n<p>").append(Html.esc(lines(p).get(0))).append("</p>\n");
    h.append(
        "<table><tr><th>plan</th><th>FP32 nodes</th><th>latency ms</th><th>preferred</th></tr>\n");
    for (PriceSection.PlanPrice pp : p.plans()) {
      h.append("<tr><td>")
          .append(Html.esc(pp.name()))
          .append("</td><td>")
          .append(pp.fp32Nodes())
          .append("</td><td>")
          .append(Html.esc(Fmt.num(pp.latencyMs())))
          .append("</td><td>")
          .append(pp.preferred() ? "yes" : "")
          .append("</td></tr>\n");
    }
    h.append("</table>\n");
    if (p.note() != null) {
      h.append("<p class=\"note\">").append(Html.esc(p.note())).append("</p>\n");
    }
  }
}
