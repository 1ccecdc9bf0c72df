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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Plain-text summary for a terminal: every line fits {@link #WIDTH} columns (long names are cut at
 * the front, long flags and sentences wrapped). Sections: header, first divergence, block x
 * checkpoint table, top amplifiers, amplification by op type, FP32 set and fix, root causes,
 * warnings.
 */
public final class ConsoleRenderer {
  /** Maximum line width. */
  public static final int WIDTH = 100;

  private static final int TOP = 8;

  private ConsoleRenderer() {}

  public static String render(AnalysisReport r) {
    List<String> out = new ArrayList<>();
    header(out, r);
    firstDivergence(out, r);
    blockTable(out, r);
    topAmplifiers(out, r);
    groups(out, "Amplification by op type", r.byOpType());
    groups(out, "Amplification by motif", r.byMotif());
    fp32Set(out, r);
    PriceBlock.console(out, r.price()); // issue 20
    reduce(out, r);
    rootCauses(out, r);
    EvidenceSections.console(out, r, line -> wrap(out, line, "    ")); // issue 15
    warnings(out, r);
    // One choke point: no line the renderer builds holds a control character of its own, so every
    // one found is a model-supplied name's (issue 16).
    return out.stream().map(TerminalText::escape).collect(Collectors.joining("\n")) + "\n";
  }

  /** Rounds when probes ran in parallel, emulation builds when the search ran there (issue 18). */
  static String execution(AnalysisReport r) {
    if (r.execution() == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    if (r.execution().parallelism() > 1) {
      sb.append(" in ")
          .append(r.execution().rounds())
          .append(" rounds (")
          .append(r.execution().parallelism())
          .append(" at once)");
    }
    if (r.execution().emulationBuilds() != null) {
      sb.append(", FP16 emulation builds ").append(r.execution().emulationBuilds());
    }
    return sb.toString();
  }

  private static void header(List<String> out, AnalysisReport r) {
    out.add("halfbisect " + r.command() + "  " + (r.passed() ? "PASS" : "FAIL"));
    wrap(out, "model:     " + r.model(), "           ");
    wrap(
        out,
        "backends:  reference "
            + r.backend().reference()
            + ", candidate "
            + r.backend().candidate()
            + ", candidate builds "
            + r.builds()
            + execution(r),
        "           ");
    wrap(out, "tolerance: " + r.tolerance().description(), "           ");
  }

  private static void firstDivergence(List<String> out, AnalysisReport r) {
    FirstFailing ff = r.firstFailing();
    if (ff != null) {
      out.add("");
      out.add("First divergence");
      wrap(out, "  tensor  " + ff.tensor(), "          ");
      wrap(
          out,
          "  node    "
              + ff.node()
              + " ("
              + ff.opType()
              + ")"
              + (ff.error() == null ? "" : ", normalized error " + Fmt.sci(ff.error())),
          "          ");
      if (ff.inputErrors() != null) {
        for (InputError i : ff.inputErrors()) {
          wrap(out, "  input   " + i.tensor() + ": " + Fmt.sci(i.error()), "          ");
        }
      }
    } else if (r.tensors() != null) {
      out.add("");
      out.add(
          "First divergence: none, "
              + (r.passed() ? "every observed tensor passes" : "no observed tensor fails"));
    }
  }

  private static void blockTable(List<String> out, AnalysisReport r) {
    BlockTable t = BlockTable.of(r.tensorsOrEmpty());
    if (t.isEmpty()) {
      return;
    }
    out.add("");
    out.add("Blocks x checkpoints (normalized error, * = fails)");
    int labelW = WIDTH - Column.values().length * 12 - 1;
    StringBuilder head = new StringBuilder(pad("block", labelW));
    for (Column c : Column.values()) {
      head.append(' ').append(padLeft(c.title(), 11));
    }
    out.add(head.toString().stripTrailing());
    for (String b : t.blocks()) {
      StringBuilder line = new StringBuilder(pad(Fmt.fit(b, labelW), labelW));
      for (Column c : Column.values()) {
        String v =
            t.cell(b, c)
                .map(cell -> Fmt.sci(cell.error()) + (cell.pass() ? " " : "*"))
                .orElse("- ");
        line.append(' ').append(padLeft(v, 11));
      }
      out.add(line.toString().stripTrailing());
    }
  }

  private static void topAmplifiers(List<String> out, AnalysisReport r) {
    List<NodeRow> amps = Ranking.topAmplifiers(r, TOP);
    if (amps.isEmpty()) {
      return;
    }
    out.add("");
    out.add("Top amplifiers");
    out.add(
        "  "
            + padLeft("ampl.", 9)
            + " "
            + padLeft("local", 9)
            + " "
            + padLeft("input", 9)
            + " "
            + padLeft("output", 9)
            + "  "
            + pad("op", 14)
            + "node");
    int nodeW = WIDTH - 2 - 4 * 10 - 2 - 14;
    for (NodeRow n : amps) {
      out.add(
          "  "
              + padLeft(Fmt.times(n.amplification()) + "", 9)
              + " "
              + padLeft(Fmt.sci(n.localError()), 9)
              + " "
              + padLeft(Fmt.sci(n.inputError()), 9)
              + " "
              + padLeft(Fmt.sci(n.outputError()), 9)
              + "  "
              + pad(Fmt.fit(n.opType(), 13), 14)
              + Fmt.fit(n.node(), nodeW));
    }
  }

  private static void fp32Set(List<String> out, AnalysisReport r) {
    if (r.fp32Nodes() == null) {
      return;
    }
    out.add("");
    out.add(
        "FP32 set: "
            + r.fp32Nodes().size()
            + (r.fp32Nodes().size() == 1 ? " node" : " nodes")
            + (r.fp16Fraction() == null
                ? ""
                : ", "
                    + Fmt.percent(r.fp16Fraction())
                    + " of float nodes stay "
                    + r.backend().candidateType()));
    for (String n : r.fp32Nodes()) {
      out.add("  " + Fmt.fit(n, WIDTH - 2));
    }
    if (r.trtexecFlags() != null) {
      out.add("Fix (trtexec):");
      out.add("  " + TrtexecLine.of(r)); // one line, never wrapped: it is pasted
    }
  }

  private static void reduce(List<String> out, AnalysisReport r) {
    ReduceSection s = r.reduce();
    if (s == null) {
      return;
    }
    out.add("");
    out.add("Reduced model: " + s.reducedNodes() + " of " + s.originalNodes() + " nodes");
    wrap(out, "  inputs  " + String.join(", ", s.inputs()), "          ");
    wrap(out, "  outputs " + String.join(", ", s.outputs()), "          ");
    if (s.files() != null) {
      s.files().forEach((k, v) -> wrap(out, "  " + k + ": " + v, "    "));
    }
  }

  private static void rootCauses(List<String> out, AnalysisReport r) {
    if (r.rootCauses() == null || r.rootCauses().isEmpty()) {
      return;
    }
    out.add("");
    out.add("Root causes");
    for (RootCause c : r.rootCauses()) {
      wrap(out, "  [" + c.cause().word() + "] " + c.node() + " (" + c.opType() + ")", "    ");
      wrap(out, "    " + c.evidence(), "    ");
      for (String s : c.suggestions()) {
        wrap(out, "    -> " + s, "       ");
      }
    }
  }

  private static void warnings(List<String> out, AnalysisReport r) {
    if (r.warnings() == null || r.warnings().isEmpty()) {
      return;
    }
    out.add("");
    out.add("Warnings");
    r.warnings().forEach(w -> wrap(out, "  ! " + w, "    "));
  }

  private static void groups(List<String> out, String title, Map<String, GroupStat> groups) {
    if (groups == null || groups.isEmpty()) {
      return;
    }
    out.add("");
    out.add(title);
    for (Map.Entry<String, GroupStat> e : Ranking.topGroups(groups, TOP)) {
      GroupStat g = e.getValue();
      out.add(
          "  "
              + pad(Fmt.fit(e.getKey(), 30), 31)
              + "max "
              + padLeft(Fmt.times(g.maxAmplification()) + "", 9)
              + "  mean "
              + padLeft(Fmt.times(g.meanAmplification()) + "", 9)
              + "  n="
              + g.count()
              + (g.finiteAmplifications() < g.count()
                  ? " (mean over the " + g.finiteAmplifications() + " finite)"
                  : ""));
    }
  }

  private static String pad(String s, int w) {
    return s.length() >= w ? s : s + " ".repeat(w - s.length());
  }

  private static String padLeft(String s, int w) {
    return s.length() >= w ? s : " ".repeat(w - s.length()) + s;
  }

  /**
   * Word-wraps {@code text} to {@link #WIDTH}; continuation lines start with {@code indent}. Words
   * are never split (issue 17: a tensor name or flag must stay paste-able): a word longer than the
   * width gets a line of its own.
   */
  static void wrap(List<String> out, String text, String indent) {
    String rest = text;
    boolean first = true;
    while (true) {
      String line = first ? rest : indent + rest;
      if (line.length() <= WIDTH) {
        out.add(line);
        return;
      }
      int cut = line.lastIndexOf(' ', WIDTH);
      int minCut = (first ? 0 : indent.length()) + 1;
      if (cut < minCut || line.substring(0, cut).isBlank()) {
        // the first word is too long: keep it whole and break after it
        cut = line.indexOf(' ', minCut);
        while (cut >= 0 && line.substring(0, cut).isBlank()) {
          cut = line.indexOf(' ', cut + 1);
        }
        if (cut < 0) {
          out.add(line);
          return;
        }
        out.add(line.substring(0, cut).stripTrailing());
        rest = line.substring(cut + 1);
      } else {
        out.add(line.substring(0, cut).stripTrailing());
        rest = line.substring(cut + 1);
      }
      first = false;
    }
  }
}
