package dev.halfbisect.report.render;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.report.model.PerfReport;
import dev.halfbisect.report.model.PerfRow;
import dev.halfbisect.report.text.Fmt;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Renders a {@link PerfReport} (issue 20) as an aligned console table or a Markdown table, in one
 * of the column sets of the investigations: {@link Layout#FULL} (every column), {@link Layout#VIT}
 * (the CLIP ViT table: max abs / median rel and speed-up per precision and batch) and {@link
 * Layout#SR} (the super-resolution table: batch, width, height, latency, throughput,
 * max/median/mean abs and rel).
 */
public final class PerfTable {
  /** Which columns a table shows. */
  public enum Layout {
    FULL,
    VIT,
    SR
  }

  private record Column(String title, Function<PerfRow, String> cell) {}

  private PerfTable() {}

  /** Console text: a header naming the clock, the table, then the notes. */
  public static String console(PerfReport r, Layout layout) {
    List<Column> cols = columns(layout);
    List<List<String>> cells = cells(r, cols);
    int[] w = new int[cols.size()];
    for (int c = 0; c < cols.size(); c++) {
      w[c] = cols.get(c).title().length();
      for (List<String> row : cells) {
        w[c] = Math.max(w[c], row.get(c).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(header(r)).append('\n');
    appendAligned(sb, cols.stream().map(Column::title).toList(), w);
    for (List<String> row : cells) {
      appendAligned(sb, row, w);
    }
    notes(r).forEach(n -> sb.append("note: ").append(n).append('\n'));
    return sb.toString();
  }

  /** A Markdown section: heading, clock line, pipe table, notes as a list. */
  public static String markdown(PerfReport r, Layout layout) {
    List<Column> cols = columns(layout);
    StringBuilder sb = new StringBuilder();
    sb.append("## halfbisect perf: ").append(MarkdownRenderer.text(r.model())).append("\n\n");
    sb.append(MarkdownRenderer.text(header(r))).append("\n\n");
    sb.append('|');
    cols.forEach(c -> sb.append(' ').append(c.title()).append(" |"));
    sb.append("\n|");
    cols.forEach(c -> sb.append("---|"));
    sb.append('\n');
    for (List<String> row : cells(r, cols)) {
      sb.append('|');
      row.forEach(v -> sb.append(' ').append(MarkdownRenderer.text(v)).append(" |"));
      sb.append('\n');
    }
    List<String> notes = notes(r);
    if (!notes.isEmpty()) {
      sb.append('\n');
      notes.forEach(n -> sb.append("- ").append(MarkdownRenderer.text(n)).append('\n'));
    }
    return sb.toString();
  }

  private static String header(PerfReport r) {
    return String.format(
        Locale.ROOT,
        "%s on %s (errors vs %s); latency: %s, median of %d runs after %d warm-up%s",
        r.model(),
        r.backend().candidate(),
        r.backend().reference(),
        r.clock(),
        r.runs(),
        r.warmup(),
        r.fp16Speed() || r.clock().contains("not FP16 speed") ? "" : " (not FP16 speed)");
  }

  private static List<String> notes(PerfReport r) {
    // a precision skipped at a batch is skipped at every shape set: said once
    Set<String> n = new LinkedHashSet<>();
    for (PerfRow row : r.rows()) {
      if (!row.measured()) {
        n.add(row.precision() + " at batch " + row.batch() + " not measured: " + row.skipped());
      }
    }
    if (r.warnings() != null) {
      n.addAll(r.warnings());
    }
    return new ArrayList<>(n);
  }

  private static void appendAligned(StringBuilder sb, List<String> cells, int[] w) {
    for (int c = 0; c < cells.size(); c++) {
      String v = cells.get(c);
      sb.append(c == 0 ? "" : "  ");
      sb.append(c == 0 ? pad(v, w[c]) : padLeft(v, w[c]));
    }
    sb.append('\n');
  }

  private static String pad(String s, int w) {
    return s + " ".repeat(Math.max(0, w - s.length()));
  }

  private static String padLeft(String s, int w) {
    return " ".repeat(Math.max(0, w - s.length())) + s;
  }

  private static List<List<String>> cells(PerfReport r, List<Column> cols) {
    List<List<String>> out = new ArrayList<>();
    for (PerfRow row : r.rows()) {
      if (!row.measured()) {
        continue;
      }
      List<String> cells = new ArrayList<>();
      cols.forEach(c -> cells.add(c.cell().apply(row)));
      out.add(cells);
    }
    return out;
  }

  private static List<Column> columns(Layout layout) {
    Column precision = new Column("precision", PerfRow::precision);
    Column batch = new Column("batch", r -> Integer.toString(r.batch()));
    Column shape = new Column("shape", PerfTable::shapeCell);
    Column latency = new Column("latency ms", r -> Fmt.num(r.latencyMs()));
    Column p90 = new Column("p90 ms", r -> Fmt.num(r.p90Ms()));
    Column throughput = new Column("samples/s", r -> Fmt.num(r.throughput()));
    Column speedup = new Column("speed-up", r -> Fmt.times(r.speedup()));
    Column maxAbs = new Column("max abs", r -> Fmt.sci(r.maxAbs()));
    Column medAbs = new Column("median abs", r -> Fmt.sci(r.medianAbs()));
    Column meanAbs = new Column("mean abs", r -> Fmt.sci(r.meanAbs()));
    Column maxRel = new Column("max rel", r -> Fmt.sci(r.maxRel()));
    Column medRel = new Column("median rel", r -> Fmt.sci(r.medianRel()));
    Column meanRel = new Column("mean rel", r -> Fmt.sci(r.meanRel()));
    Column verdict = new Column("verdict", PerfRow::verdict);
    switch (layout) {
      case VIT:
        return ImmutableList.of(precision, batch, maxAbs, medRel, latency, speedup);
      case SR:
        return ImmutableList.of(
            precision,
            batch,
            new Column("width", r -> lastDim(r, 1)),
            new Column("height", r -> lastDim(r, 2)),
            latency,
            throughput,
            maxAbs,
            medAbs,
            meanAbs,
            maxRel,
            medRel,
            meanRel);
      default:
        return ImmutableList.of(
            precision,
            batch,
            shape,
            latency,
            p90,
            throughput,
            maxAbs,
            medAbs,
            meanAbs,
            maxRel,
            medRel,
            meanRel,
            speedup,
            verdict);
    }
  }

  /** The dims of a single input; {@code name:dims} joined by commas when there are several. */
  private static String shapeCell(PerfRow r) {
    if (r.shapes().size() == 1) {
      return r.shapes().values().iterator().next();
    }
    List<String> cells = new ArrayList<>();
    r.shapes().forEach((name, dims) -> cells.add(name + ":" + dims));
    return String.join(",", cells);
  }

  /**
   * Width (k = 1) or height (k = 2), read from the end of the NCHW shape of the first input (by
   * name) of rank >= 3, the image; else of the first input.
   */
  private static String lastDim(PerfRow r, int k) {
    if (r.shapes().isEmpty()) {
      return "-";
    }
    String image = r.shapes().values().iterator().next();
    for (String dims : r.shapes().values()) {
      if (dims.split("x").length >= 3) {
        image = dims;
        break;
      }
    }
    String[] dims = image.split("x");
    return dims.length >= 2 ? dims[dims.length - k] : "-";
  }
}
