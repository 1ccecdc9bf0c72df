package dev.halfbisect.report.render;

import dev.halfbisect.report.blocks.BlockDetector;
import dev.halfbisect.report.blocks.BlockTable;
import dev.halfbisect.report.mapping.RootCauseAnalyzer;
import dev.halfbisect.report.model.TensorRow;
import dev.halfbisect.report.text.Fmt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.annotation.CheckForNull;

/**
 * Inline SVG charts written by hand: no script, no external assets; every text goes through {@link
 * Html#esc}.
 */
final class SvgCharts {
  static final int MAX_DECADES = 16;

  static final String PASS_COLOR = "#2b6cb0";
  static final String FAIL_COLOR = "#c53030";

  /** Passing tensors drawn as hoverable markers at most; beyond, every k-th one. */
  static final int MAX_PASSING_MARKERS = 3000;

  private SvgCharts() {}

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /**
   * Normalized error of every tensor along the topological order, log scale, with the tolerance
   * line, block bands and the first divergence marked. Non-finite errors sit on the top edge as
   * triangles.
   */
  static String errorAlongTopo(
      List<TensorRow> rows, double limit, @CheckForNull String firstFailingTensor) {
    ErrorAxes a = ErrorAxes.of(rows, limit);
    StringBuilder s = new StringBuilder();
    s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 ")
        .append(ErrorAxes.W)
        .append(' ')
        .append(ErrorAxes.H)
        .append("\" role=\"img\" aria-label=\"normalized error along the topological order\">\n");
    Map<String, int[]> bands = blockBands(rows);
    drawBlockBands(s, a, bands);
    drawGridAndAxes(s, a, rows.size(), !bands.isEmpty());
    if (a.limitOnAxis()) {
      drawToleranceLine(s, a, limit);
    }
    drawErrorLine(s, a, rows);
    drawPoints(s, a, rows);
    if (firstFailingTensor != null) {
      drawFirstDivergence(s, a, rows, firstFailingTensor);
    }
    s.append("</svg>\n");
    return s.toString();
  }

  /**
   * Geometry of {@link #errorAlongTopo}: a log10 axis over whole decades {@code [decLo, decHi]} and
   * {@code n} tensors spread over the plot width.
   */
  private record ErrorAxes(double pw, double ph, int decLo, int decHi, int n, boolean limitOnAxis) {
    static final int W = 1240;
    static final int H = 360;
    static final int LEFT = 64;
    static final int RIGHT = 16;
    static final int TOP = 20;
    static final int BOTTOM = 48;

    /** Decades covering the finite positive errors and the tolerance limit. */
    static ErrorAxes of(List<TensorRow> rows, double limit) {
      double pw = W - LEFT - RIGHT;
      double ph = H - TOP - BOTTOM;
      double lo = Double.POSITIVE_INFINITY;
      double hi = limit;
      for (TensorRow r : rows) {
        double e = r.normalizedError();
        if (Double.isFinite(e) && e > 0) {
          lo = Math.min(lo, e);
          hi = Math.max(hi, e);
        }
      }
      // A zero, negative or non-finite limit has no place on a log axis: fall back to the data.
      boolean limitOnAxis = Double.isFinite(limit) && limit > 0;
      if (!Double.isFinite(hi) || hi <= 0) {
        hi = limitOnAxis ? limit : 1;
      }
      if (!Double.isFinite(lo)) {
        lo = limitOnAxis ? limit / 100 : hi / 100;
      }
      if (limitOnAxis) {
        lo = Math.min(lo, limit / 10);
      }
      int decHi = (int) Math.ceil(Math.log10(hi));
      // At most MAX_DECADES decades below the top, so tiny errors cannot stretch the axis (or the
      // grid loop) without bound.
      int decLo = Math.max((int) Math.floor(Math.log10(lo)), decHi - MAX_DECADES);
      if (decHi <= decLo) {
        decHi = decLo + 1;
      }
      return new ErrorAxes(pw, ph, decLo, decHi, Math.max(rows.size(), 1), limitOnAxis);
    }

    double x(int i) {
      return LEFT + (n == 1 ? pw / 2 : i * pw / (n - 1));
    }

    double y(double e) {
      double v = Math.log10(Math.max(e, Math.pow(10, decLo)));
      return TOP + ph - (v - decLo) / (decHi - decLo) * ph;
    }

    /** Where a point sits: non-finite errors on the top edge. */
    double yOrTop(double e) {
      return Double.isFinite(e) ? y(e) : TOP;
    }
  }

  /** First and last row index of each detected block, in order of appearance. */
  private static Map<String, int[]> blockBands(List<TensorRow> rows) {
    Map<String, int[]> bands = new LinkedHashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      final int idx = i;
      BlockTable.blockOf(rows.get(i))
          .ifPresent(b -> bands.computeIfAbsent(b, k -> new int[] {idx, idx})[1] = idx);
    }
    return bands;
  }

  /** Alternate shading per block, labelled with the block index below the axis. */
  private static void drawBlockBands(StringBuilder s, ErrorAxes a, Map<String, int[]> bands) {
    int k = 0;
    for (Map.Entry<String, int[]> b : bands.entrySet()) {
      double x0 = a.x(b.getValue()[0]);
      double x1 = a.x(b.getValue()[1]);
      if (k % 2 == 0) {
        s.append("<rect x=\"")
            .append(f(x0))
            .append("\" y=\"")
            .append(ErrorAxes.TOP)
            .append("\" width=\"")
            .append(f(Math.max(1, x1 - x0)))
            .append("\" height=\"")
            .append(f(a.ph()))
            .append("\" fill=\"#edf2f7\"><title>")
            .append(Html.esc(b.getKey()))
            .append("</title></rect>\n");
      }
      if (bands.size() <= 48) {
        String label =
            BlockDetector.detect(b.getKey())
                .map(id -> Integer.toString(id.index()))
                .orElse(Integer.toString(k));
        s.append("<text x=\"")
            .append(f((x0 + x1) / 2))
            .append("\" y=\"")
            .append(ErrorAxes.TOP + a.ph() + 30)
            .append("\" class=\"blk\" text-anchor=\"middle\">")
            .append(Html.esc(label))
            .append("</text>\n");
      }
      k++;
    }
  }

  /** Decade grid with its tick labels, both axes and the x axis caption. */
  private static void drawGridAndAxes(StringBuilder s, ErrorAxes a, int tensors, boolean bands) {
    int left = ErrorAxes.LEFT;
    int right = ErrorAxes.W - ErrorAxes.RIGHT;
    int top = ErrorAxes.TOP;
    for (int d = a.decLo(); d <= a.decHi(); d++) {
      double yy = a.y(Math.pow(10, d));
      s.append("<line x1=\"")
          .append(left)
          .append("\" x2=\"")
          .append(right)
          .append("\" y1=\"")
          .append(f(yy))
          .append("\" y2=\"")
          .append(f(yy))
          .append("\" class=\"grid\"/>\n");
      s.append("<text x=\"")
          .append(left - 6)
          .append("\" y=\"")
          .append(f(yy + 4))
          .append("\" text-anchor=\"end\" class=\"tick\">1e")
          .append(d)
          .append("</text>\n");
    }
    s.append("<line x1=\"")
        .append(left)
        .append("\" x2=\"")
        .append(left)
        .append("\" y1=\"")
        .append(top)
        .append("\" y2=\"")
        .append(f(top + a.ph()))
        .append("\" class=\"axis\"/>\n");
    s.append("<line x1=\"")
        .append(left)
        .append("\" x2=\"")
        .append(right)
        .append("\" y1=\"")
        .append(f(top + a.ph()))
        .append("\" y2=\"")
        .append(f(top + a.ph()))
        .append("\" class=\"axis\"/>\n");
    s.append("<text x=\"")
        .append(left)
        .append("\" y=\"")
        .append(ErrorAxes.H - 4)
        .append("\" class=\"tick\">tensors in topological order (")
        .append(tensors)
        .append(")")
        .append(bands ? "; shaded bands and numbers: blocks" : "")
        .append("</text>\n");
  }

  /** The tolerance line, only for a limit that a log axis can show. */
  private static void drawToleranceLine(StringBuilder s, ErrorAxes a, double limit) {
    double ty = a.y(limit);
    s.append("<line x1=\"")
        .append(ErrorAxes.LEFT)
        .append("\" x2=\"")
        .append(ErrorAxes.W - ErrorAxes.RIGHT)
        .append("\" y1=\"")
        .append(f(ty))
        .append("\" y2=\"")
        .append(f(ty))
        .append("\" class=\"tol\"/>\n");
    s.append("<text x=\"")
        .append(ErrorAxes.W - ErrorAxes.RIGHT - 4)
        .append("\" y=\"")
        .append(f(ty - 5))
        .append("\" text-anchor=\"end\" class=\"tollabel\">tolerance ")
        .append(Html.esc(Fmt.sci(limit)))
        .append("</text>\n");
  }

  /** One polyline through every tensor (drawn when there are at least two). */
  private static void drawErrorLine(StringBuilder s, ErrorAxes a, List<TensorRow> rows) {
    StringBuilder pts = new StringBuilder();
    for (int i = 0; i < rows.size(); i++) {
      double yy = a.yOrTop(rows.get(i).normalizedError());
      pts.append(i == 0 ? "" : " ").append(f(a.x(i))).append(',').append(f(yy));
    }
    if (rows.size() > 1) {
      s.append("<polyline points=\"").append(pts).append("\" class=\"errline\"/>\n");
    }
  }

  /**
   * A marker with a tooltip per tensor: failing ones red, non-finite ones as triangles on the top
   * edge. Large graphs: every failing point keeps its marker, passing ones are thinned (the line
   * keeps them all).
   */
  private static void drawPoints(StringBuilder s, ErrorAxes a, List<TensorRow> rows) {
    int step = Math.max(1, (int) Math.ceil(rows.size() / (double) MAX_PASSING_MARKERS));
    int top = ErrorAxes.TOP;
    for (int i = 0; i < rows.size(); i++) {
      TensorRow r = rows.get(i);
      if (r.passed() && i % step != 0) {
        continue;
      }
      double e = r.normalizedError();
      double xx = a.x(i);
      String tip = r.name() + " (" + r.opType() + ", node " + r.node() + "): " + Fmt.sci(e);
      if (!Double.isFinite(e)) {
        s.append("<path d=\"M")
            .append(f(xx - 4))
            .append(',')
            .append(f(top + 6))
            .append(" L")
            .append(f(xx + 4))
            .append(',')
            .append(f(top + 6))
            .append(" L")
            .append(f(xx))
            .append(',')
            .append(top)
            .append(" Z\" fill=\"")
            .append(FAIL_COLOR)
            .append("\"><title>")
            .append(Html.esc(tip))
            .append("</title></path>\n");
      } else {
        s.append("<circle cx=\"")
            .append(f(xx))
            .append("\" cy=\"")
            .append(f(a.y(e)))
            .append("\" r=\"")
            .append(r.passed() ? "1.8" : "2.6")
            .append("\" fill=\"")
            .append(r.passed() ? PASS_COLOR : FAIL_COLOR)
            .append("\"><title>")
            .append(Html.esc(tip))
            .append("</title></circle>\n");
      }
    }
  }

  /** A vertical line, a ring and a label at the first failing tensor, when it is plotted. */
  private static void drawFirstDivergence(
      StringBuilder s, ErrorAxes a, List<TensorRow> rows, String firstFailingTensor) {
    int at = -1;
    for (int i = 0; i < rows.size(); i++) {
      if (rows.get(i).name().equals(firstFailingTensor)) {
        at = i;
      }
    }
    if (at < 0) {
      return;
    }
    double ffx = a.x(at);
    double ffy = a.yOrTop(rows.get(at).normalizedError());
    int top = ErrorAxes.TOP;
    s.append("<line x1=\"")
        .append(f(ffx))
        .append("\" x2=\"")
        .append(f(ffx))
        .append("\" y1=\"")
        .append(top)
        .append("\" y2=\"")
        .append(f(top + a.ph()))
        .append("\" class=\"ffline\"/>\n");
    s.append("<circle cx=\"")
        .append(f(ffx))
        .append("\" cy=\"")
        .append(f(ffy))
        .append("\" r=\"7\" class=\"ffmark\"/>\n");
    boolean leftSide = ffx > ErrorAxes.LEFT + a.pw() * 0.7;
    s.append("<text x=\"")
        .append(f(leftSide ? ffx - 10 : ffx + 10))
        .append("\" y=\"")
        .append(top + 14)
        .append("\" text-anchor=\"")
        .append(leftSide ? "end" : "start")
        .append("\" class=\"fflabel\">first divergence: ")
        .append(Html.esc(Fmt.fit(firstFailingTensor, 60)))
        .append("</text>\n");
  }

  /** One bar of {@link #amplificationBars}. */
  record Bar(String label, double value, String note) {}

  /** Horizontal bars on a log scale starting at 0.1; amplification 1 (no gain) marked. */
  static String amplificationBars(List<Bar> bars, String ariaLabel) {
    int rowH = 24;
    int left = 210;
    int w = 760;
    int right = 200;
    int top = 26;
    int h = top + rowH * bars.size() + 26;
    double max = 10;
    for (Bar b : bars) {
      if (Double.isFinite(b.value())) {
        max = Math.max(max, b.value());
      }
    }
    final double decLo = -1;
    final double decHi = Math.ceil(Math.log10(max));
    double pw = w - left - right;
    java.util.function.DoubleUnaryOperator x =
        v -> {
          double l = Double.isFinite(v) ? Math.log10(Math.max(v, 0.1)) : decHi;
          return left + (l - decLo) / (decHi - decLo) * pw;
        };
    StringBuilder s = new StringBuilder();
    s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart bars\" viewBox=\"0 0 ")
        .append(w)
        .append(' ')
        .append(h)
        .append("\" role=\"img\" aria-label=\"")
        .append(Html.esc(ariaLabel))
        .append("\">\n");
    for (int d = (int) decLo; d <= decHi; d++) {
      double xx = x.applyAsDouble(Math.pow(10, d));
      s.append("<line x1=\"")
          .append(f(xx))
          .append("\" x2=\"")
          .append(f(xx))
          .append("\" y1=\"")
          .append(top - 4)
          .append("\" y2=\"")
          .append(h - 22)
          .append("\" class=\"")
          .append(d == 0 ? "one" : "grid")
          .append("\"/>\n");
      s.append("<text x=\"")
          .append(f(xx))
          .append("\" y=\"")
          .append(top - 10)
          .append("\" text-anchor=\"middle\" class=\"tick\">")
          .append(d < 0 ? "0.1x" : (long) Math.pow(10, d) + "x")
          .append("</text>\n");
    }
    List<String> rowsSvg = new ArrayList<>();
    for (int i = 0; i < bars.size(); i++) {
      Bar b = bars.get(i);
      double yy = top + i * rowH;
      double x1 = x.applyAsDouble(b.value());
      boolean amplifies = b.value() >= RootCauseAnalyzer.AMPLIFIED;
      rowsSvg.add(
          "<text x=\""
              + (left - 8)
              + "\" y=\""
              + f(yy + 16)
              + "\" text-anchor=\"end\" class=\"lbl\">"
              + Html.esc(Fmt.fit(b.label(), 30))
              + "</text>\n"
              + "<rect x=\""
              + left
              + "\" y=\""
              + f(yy + 4)
              + "\" width=\""
              + f(Math.max(1, x1 - left))
              + "\" height=\""
              + (rowH - 8)
              + "\" fill=\""
              + (amplifies ? FAIL_COLOR : PASS_COLOR)
              + "\"><title>"
              + Html.esc(b.label() + ": " + b.note())
              + "</title></rect>\n"
              + "<text x=\""
              + f(x1 + 6)
              + "\" y=\""
              + f(yy + 16)
              + "\" class=\"val\">"
              + Html.esc(b.note())
              + "</text>\n");
    }
    rowsSvg.forEach(s::append);
    s.append("<text x=\"")
        .append(left)
        .append("\" y=\"")
        .append(h - 6)
        .append(
            "\" class=\"tick\">max amplification (output error / input error), log scale; red: at least ")
        .append(Fmt.times(RootCauseAnalyzer.AMPLIFIED))
        .append("</text>\n");
    s.append("</svg>\n");
    return s.toString();
  }
}
