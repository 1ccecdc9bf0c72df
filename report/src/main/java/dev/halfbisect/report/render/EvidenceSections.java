package dev.halfbisect.report.render;

import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.HeadroomView;
import dev.halfbisect.report.model.OutputPassRate;
import dev.halfbisect.report.model.SampleSummary;
import dev.halfbisect.report.model.SearchView;
import dev.halfbisect.report.text.Fmt;
import java.util.ArrayList;
import java.util.List;

/**
 * The issue-15 blocks in words, shared by the console, Markdown and HTML renderers so that they say
 * the same: per-sample pass rates and the worst sample, passes close to the bound, FP16 headroom
 * (tensors at risk, also when everything passes), how a precision search stopped and whether its
 * plan holds on held-out samples. Each section is a title and plain lines; renderers escape them.
 */
final class EvidenceSections {
  private EvidenceSections() {}

  /** A titled list of lines. */
  record Section(String id, String title, List<String> lines) {}

  static List<Section> of(AnalysisReport r) {
    List<Section> out = new ArrayList<>();
    if (r.samples() != null) {
      out.add(new Section("samples", "Samples", samples(r.samples())));
    }
    if (r.search() != null) {
      out.add(new Section("search", "Precision search", search(r.search())));
    }
    if (r.headroom() != null) {
      out.add(new Section("headroom", "FP16 headroom", headroom(r.headroom())));
    }
    return out;
  }

  private static List<String> samples(SampleSummary s) {
    List<String> l = new ArrayList<>();
    l.add(
        "outputs pass on "
            + s.passed()
            + " of "
            + s.count()
            + " samples ("
            + Fmt.percent(s.passRate())
            + ")"
            + (s.worstSample() == null
                ? ""
                : "; worst: sample " + s.worstSample() + " (" + s.worstTensor() + ")"));
    for (OutputPassRate o : s.outputs()) {
      l.add(passRate(o));
    }
    return l;
  }

  private static String passRate(OutputPassRate o) {
    String line =
        o.tensor()
            + ": "
            + o.passed()
            + "/"
            + o.count()
            + " pass, worst sample "
            + o.worstSample()
            + " at normalized error "
            + Fmt.sci(o.worstNormalizedError());
    if (o.passesNearBound()) {
      line +=
          " - passes at "
              + Math.round(100 * o.boundShare())
              + "% of the bound: close to failing on other inputs";
    }
    return line;
  }

  private static List<String> search(SearchView s) {
    List<String> l = new ArrayList<>();
    l.add(
        "stopped: "
            + s.stopReason()
            + (s.maxBuilds() == null ? "" : " (build cap " + s.maxBuilds() + ")"));
    l.add("searched on " + s.searchSamples() + " sample(s)");
    SampleSummary h = s.holdout();
    if (h == null) {
      l.add("no held-out samples: the plan is shown to pass only on the samples it was found on");
    } else {
      l.add(
          (s.holdsOnHoldout() ? "holds on held-out samples: " : "FAILS on held-out samples: ")
              + h.passed()
              + " of "
              + h.count()
              + " pass");
      for (OutputPassRate o : h.outputs()) {
        l.add("held out " + passRate(o));
      }
    }
    return l;
  }

  private static List<String> headroom(HeadroomView h) {
    List<String> l = new ArrayList<>();
    if (h.atRisk().isEmpty()) {
      l.add(
          "no observed tensor's reference magnitude reaches "
              + Fmt.percent(h.share())
              + " of 65504 on these samples");
      return l;
    }
    l.add(
        h.atRisk().size()
            + " tensor(s) reach "
            + Fmt.percent(h.share())
            + " of 65504 in the FP32 reference (at risk of FP16 overflow on other inputs):");
    for (HeadroomView.AtRisk a : h.atRisk()) {
      l.add(
          a.tensor()
              + " ("
              + a.node()
              + ", "
              + a.opType()
              + "): max |x| "
              + Fmt.sci(a.refMaxAbs())
              + " = "
              + Fmt.percent(a.shareOfMax())
              + " of 65504, margin "
              + Fmt.sci(a.margin())
              + ", "
              + a.location()
              + ", "
              + a.verdict());
    }
    return l;
  }

  /** The sections as console lines (the caller wraps them). */
  static void console(
      List<String> out, AnalysisReport r, java.util.function.Consumer<String> wrap) {
    for (Section s : of(r)) {
      out.add("");
      out.add(s.title());
      s.lines().forEach(line -> wrap.accept("  " + line));
    }
  }

  /** The sections as Markdown; {@code text} escapes a line. */
  static void markdown(
      StringBuilder m, AnalysisReport r, java.util.function.UnaryOperator<String> text) {
    for (Section s : of(r)) {
      m.append("\n## ").append(s.title()).append("\n\n");
      s.lines().forEach(line -> m.append("- ").append(text.apply(line)).append('\n'));
    }
  }

  /** The sections as HTML, every line escaped. */
  static void html(StringBuilder h, AnalysisReport r) {
    for (Section s : of(r)) {
      h.append("<h2 id=\"").append(s.id()).append("\">").append(Html.esc(s.title()));
      h.append("</h2>\n<ul>\n");
      s.lines().forEach(line -> h.append("<li>").append(Html.esc(line)).append("</li>\n"));
      h.append("</ul>\n");
    }
  }
}
