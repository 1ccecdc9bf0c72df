package dev.halfbisect.report.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.report.model.TensorRow;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SvgChartsTest {
  private static int count(String s, String what) {
    Matcher m = Pattern.compile(Pattern.quote(what)).matcher(s);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  @Test
  void largeGraphsKeepEveryFailingMarkerAndThinPassingOnes() throws Exception {
    List<TensorRow> rows = new ArrayList<>();
    for (int i = 0; i < 12_000; i++) {
      boolean fail = i % 1000 == 7;
      rows.add(
          TensorRow.of(
              "t" + i, "/layers." + (i / 1000) + "/n" + i, "Add", fail ? 0.5 : 1e-3, 0, !fail));
    }
    rows.set(
        11_999, TensorRow.of("last", "/layers.11/last", "Pow", Double.POSITIVE_INFINITY, 0, false));
    String svg = SvgCharts.errorAlongTopo(rows, 1e-2, "t7");
    RenderersTest.parseXml(svg);
    assertThat(count(svg, "fill=\"" + SvgCharts.FAIL_COLOR + "\"><title>")).isEqualTo(12 + 1);
    assertThat(count(svg, "fill=\"" + SvgCharts.PASS_COLOR + "\"><title>"))
        .isBetween(SvgCharts.MAX_PASSING_MARKERS / 2, SvgCharts.MAX_PASSING_MARKERS);
    assertThat(svg).contains("first divergence: t7", "<polyline", "tolerance 1.00e-02");
    assertThat(count(svg, "<path d=")).as("the inf tensor is a triangle").isEqualTo(1);
  }

  @Test
  void limitsALogAxisCannotShowLeaveOutTheToleranceLineAndStayBounded() throws Exception {
    List<TensorRow> rows =
        List.of(
            TensorRow.of("a", "/n0", "Add", 1e-3, 0, true),
            TensorRow.of("b", "/n1", "Pow", 0.0, 0, true),
            TensorRow.of("c", "/n2", "Mul", 1e-30, 0, true));
    for (double limit : new double[] {0.0, -1.0, Double.NaN}) {
      String svg = SvgCharts.errorAlongTopo(rows, limit, null);
      RenderersTest.parseXml(svg);
      assertThat(svg).as("limit %s", limit).doesNotContain("class=\"tol\"").contains("<polyline");
      // The axis spans at most MAX_DECADES + 1 decade grid lines whatever the data.
      assertThat(count(svg, "class=\"grid\"")).isLessThanOrEqualTo(SvgCharts.MAX_DECADES + 1);
    }
  }

  @Test
  void barsAreOrderedAndLabelledAndEscaped() throws Exception {
    String svg =
        SvgCharts.amplificationBars(
            List.of(
                new SvgCharts.Bar("<Pow>", Double.POSITIVE_INFINITY, "max inf"),
                new SvgCharts.Bar("Add", 2.5, "max 2.50x")),
            "by op type");
    RenderersTest.parseXml(svg);
    assertThat(svg).contains("&lt;Pow&gt;", "max 2.50x").doesNotContain("<Pow>");
    assertThat(svg.indexOf("&lt;Pow&gt;")).isLessThan(svg.indexOf(">Add<"));
  }
}
