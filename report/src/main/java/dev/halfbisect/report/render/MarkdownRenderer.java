package dev.halfbisect.report.render;

import dev.halfbisect.report.blocks.BlockTable;
import dev.halfbisect.report.blocks.BlockTable.Column;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.FirstFailing;
import dev.halfbisect.report.model.GroupStat;
import dev.halfbisect.report.model.InputError;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.ReduceSection;
import dev.halfbisect.report.model.RootCause;
import dev.halfbisect.report.text.Fmt;
import dev.halfbisect.report.text.TerminalText;
import java.util.List;
import java.util.Map;

/**
 * GitHub-flavoured Markdown: the same sections as the console summary with tables. Names go into
 * code spans with '|' escaped (tables) and other text is HTML-escaped, so names holding markup
 * render as text.
 */
public final class MarkdownRenderer {
  private static final int TOP = 15;

  private MarkdownRenderer() {}

  public static String render(AnalysisReport r) {
    StringBuilder m = new StringBuilder();
    header(m, r);
    firstDivergence(m, r);
    blockTable(m, r);
    topAmplifiers(m, r);
    groups(m, "Amplification by op type", "op type", r.byOpType());
    groups(m, "Amplification by motif", "motif", r.byMotif());
    fp32Set(m, r);
    PriceBlock.markdown(m, r.price()); // issue 20
    reduce(m, r);
    rootCauses(m, r);
    EvidenceSections.markdown(m, r, MarkdownRenderer::text); // issue 15
    warnings(m, r);
    // Safety net behind text()/code(): no control character of a name reaches a terminal (issue
    // 16).
    return TerminalText.escapeKeepingNewlines(m.toString());
  }

  private static void header(StringBuilder m, AnalysisReport r) {
    m.append("# halfbisect ")
        .append(text(r.command()))
        .append(": ")
        .append(r.passed() ? "PASS" : "FAIL")
        .append("\n\n");
    m.append("- model: ").append(code(r.model())).append('\n');
    m.append("- reference ")
        .append(code(r.backend().reference()))
        .append(", candidate ")
        .append(code(r.backend().candidate()))
        .append(", candidate builds ")
        .append(r.builds())
        .append('\n');
    m.append("- tolerance: ").append(text(r.tolerance().description())).append("\n");
  }

  private static void firstDivergence(StringBuilder m, AnalysisReport r) {
    FirstFailing ff = r.firstFailing();
    if (ff != null) {
      m.append("\n## First divergence\n\n| | |\n|---|---|\n");
      m.append("| tensor | ").append(code(ff.tensor())).append(" |\n");
      m.append("| node | ")
          .append(code(ff.node()))
          .append(" (")
          .append(text(ff.opType()))
          .append(") |\n");
      if (ff.error() != null) {
        m.append("| normalized error | ").append(Fmt.sci(ff.error())).append(" |\n");
      }
      if (ff.inputErrors() != null) {
        for (InputError i : ff.inputErrors()) {
          m.append("| input ")
              .append(code(i.tensor()))
              .append(" | ")
              .append(Fmt.sci(i.error()))
              .append(" |\n");
        }
      }
    } else if (r.tensors() != null) {
      m.append("\n## First divergence\n\nNone: ")
          .append(r.passed() ? "every observed tensor passes" : "no observed tensor fails")
          .append(".\n");
    }
  }

  private static void blockTable(StringBuilder m, AnalysisReport r) {
    BlockTable t = BlockTable.of(r.tensorsOrEmpty());
    if (!t.isEmpty()) {
      m.append("\n## Blocks x checkpoints\n\nNormalized error; **bold** cells fail.\n\n| block |");
      for (Column c : Column.values()) {
        m.append(' ').append(c.title()).append(" |");
      }
      m.append("\n|---|");
      m.append("---:|".repeat(Column.values().length)).append('\n');
      for (String b : t.blocks()) {
        m.append("| ").append(code(b)).append(" |");
        for (Column c : Column.values()) {
          m.append(' ')
              .append(
                  t.cell(b, c)
                      .map(
                          cell ->
                              cell.pass()
                                  ? Fmt.sci(cell.error())
                                  : "**" + Fmt.sci(cell.error()) + "**")
                      .orElse("-"))
              .append(" |");
        }
        m.append('\n');
      }
    }
  }

  private static void topAmplifiers(StringBuilder m, AnalysisReport r) {
    List<NodeRow> amps = Ranking.topAmplifiers(r, TOP);
    if (!amps.isEmpty()) {
      m.append(
              "\n## Top amplifiers\n\n| node | op | local error | input error | output error | amplification |\n")
          .append("|---|---|---:|---:|---:|---:|\n");
      for (NodeRow n : amps) {
        m.append("| ")
            .append(code(n.node()))
            .append(" | ")
            .append(text(n.opType()))
            .append(" | ")
            .append(Fmt.sci(n.localError()))
            .append(" | ")
            .append(Fmt.sci(n.inputError()))
            .append(" | ")
            .append(Fmt.sci(n.outputError()))
            .append(" | ")
            .append(Fmt.times(n.amplification()))
            .append(" |\n");
      }
    }
  }

  private static void fp32Set(StringBuilder m, AnalysisReport r) {
    if (r.fp32Nodes() != null) {
      m.append("\n## FP32 set\n\n")
          .append(r.fp32Nodes().size())
          .append(r.fp32Nodes().size() == 1 ? " node" : " nodes")
          .append(" kept in FP32");
      if (r.fp16Fraction() != null) {
        m.append("; ")
            .append(Fmt.percent(r.fp16Fraction()))
            .append(" of float nodes stay ")
            .append(r.backend().candidateType());
      }
      m.append(".\n\n");
      r.fp32Nodes().forEach(n -> m.append("- ").append(code(n)).append('\n'));
      if (r.trtexecFlags() != null) {
        m.append("\n```sh\n").append(TrtexecLine.of(r)).append("\n```\n");
      }
    }
  }

  private static void reduce(StringBuilder m, AnalysisReport r) {
    if (r.reduce() != null) {
      ReduceSection s = r.reduce();
      m.append("\n## Reduced model\n\n")
          .append(s.reducedNodes())
          .append(" of ")
          .append(s.originalNodes())
          .append(" nodes; inputs ")
          .append(String.join(", ", s.inputs().stream().map(MarkdownRenderer::code).toList()))
          .append("; outputs ")
          .append(String.join(", ", s.outputs().stream().map(MarkdownRenderer::code).toList()))
          .append(".\n");
      if (s.files() != null) {
        s.files()
            .forEach(
                (k, v) -> m.append("- ").append(text(k)).append(": ").append(code(v)).append('\n'));
      }
    }
  }

  private static void rootCauses(StringBuilder m, AnalysisReport r) {
    if (r.rootCauses() != null && !r.rootCauses().isEmpty()) {
      m.append("\n## Root causes\n\n");
      for (RootCause c : r.rootCauses()) {
        m.append("- **")
            .append(c.cause().word())
            .append("** ")
            .append(code(c.node()))
            .append(" (")
            .append(text(c.opType()))
            .append("): ")
            .append(text(c.evidence()))
            .append('\n');
        c.suggestions().forEach(s -> m.append("  - ").append(text(s)).append('\n'));
      }
    }
  }

  private static void warnings(StringBuilder m, AnalysisReport r) {
    if (r.warnings() != null && !r.warnings().isEmpty()) {
      m.append("\n## Warnings\n\n");
      r.warnings().forEach(w -> m.append("- ").append(text(w)).append('\n'));
    }
  }

  private static void groups(
      StringBuilder m, String title, String key, Map<String, GroupStat> groups) {
    if (groups == null || groups.isEmpty()) {
      return;
    }
    m.append("\n## ")
        .append(title)
        .append("\n\n| ")
        .append(key)
        .append(" | nodes | max amplification | mean amplification | max local error |\n")
        .append("|---|---:|---:|---:|---:|\n");
    for (Map.Entry<String, GroupStat> e : Ranking.topGroups(groups, TOP)) {
      GroupStat g = e.getValue();
      m.append("| ")
          .append(code(e.getKey()))
          .append(" | ")
          .append(g.count())
          .append(" | ")
          .append(Fmt.num(g.maxAmplification()))
          .append("x | ")
          .append(Fmt.times(g.meanAmplification()))
          .append(
              g.finiteAmplifications() < g.count()
                  ? " (of " + g.finiteAmplifications() + " finite)"
                  : "")
          .append(" | ")
          .append(Fmt.sci(g.maxLocalError()))
          .append(" |\n");
    }
  }

  /**
   * A code span that survives tables: '|' escaped, backticks fenced by a longer run, newlines
   * flattened.
   */
  static String code(String s) {
    String v = TerminalText.escape(s.replace("\r", " ").replace("\n", " ")).replace("|", "\\|");
    int longest = 0;
    int run = 0;
    for (char c : v.toCharArray()) {
      run = c == '`' ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    String fence = "`".repeat(longest + 1);
    String pad = v.startsWith("`") || v.endsWith("`") ? " " : "";
    return fence + pad + v + pad + fence;
  }

  /** Plain text: angle brackets escaped (no markup from names can render) and table-safe. */
  static String text(String s) {
    return TerminalText.escape(s.replace("\r", " ").replace("\n", " "))
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|");
  }
}
