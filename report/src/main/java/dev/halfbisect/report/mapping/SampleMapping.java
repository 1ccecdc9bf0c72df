package dev.halfbisect.report.mapping;

import dev.halfbisect.bisect.Headroom;
import dev.halfbisect.bisect.TensorComparison;
import dev.halfbisect.bisect.TensorError;
import dev.halfbisect.core.verdict.CheckMode;
import dev.halfbisect.core.verdict.Tolerance;
import dev.halfbisect.report.model.HeadroomView;
import dev.halfbisect.report.model.OutputPassRate;
import dev.halfbisect.report.model.SampleSummary;
import dev.halfbisect.report.model.Verdicts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Maps per-sample comparisons and headroom extremes to the report's {@link SampleSummary} and
 * {@link HeadroomView} blocks (issue 15).
 */
public final class SampleMapping {
  private SampleMapping() {}

  /**
   * Pass rates of {@code outputs} (tensor name to its comparison over the samples, in topological
   * order) under {@code tolerance}.
   */
  public static SampleSummary summary(Map<String, TensorComparison> outputs, Tolerance tolerance) {
    int count = outputs.values().stream().mapToInt(c -> c.perSample().size()).max().orElse(0);
    List<OutputPassRate> rows = new ArrayList<>();
    int passed = 0;
    for (int s = 0; s < count; s++) {
      final int i = s;
      boolean all =
          outputs.values().stream()
              .allMatch(c -> i >= c.perSample().size() || c.perSample().get(i).pass());
      passed += all ? 1 : 0;
    }
    Integer worstSample = null;
    String worstTensor = null;
    TensorError worst = null;
    for (Map.Entry<String, TensorComparison> e : outputs.entrySet()) {
      List<TensorError> per = e.getValue().perSample();
      int w = worstIndex(per);
      TensorError we = per.get(w);
      int ok = (int) per.stream().filter(TensorError::pass).count();
      Tolerance t = tolerance.forTensor(e.getKey());
      Double share =
          t.mode().kind() == CheckMode.Kind.NORMALIZED && t.maxNormalizedError() > 0
              ? we.normalizedError() / t.maxNormalizedError()
              : null;
      rows.add(new OutputPassRate(e.getKey(), ok, per.size(), w, we.normalizedError(), share));
      if (worst == null || worse(we, worst)) {
        worst = we;
        worstSample = w;
        worstTensor = e.getKey();
      }
    }
    return new SampleSummary(count, passed, worstSample, worstTensor, rows);
  }

  /** The at-risk block: {@code extremes} with each tensor's verdict. */
  public static HeadroomView headroom(
      double share, List<Headroom.Extreme> extremes, Predicate<String> passes) {
    List<HeadroomView.AtRisk> rows = new ArrayList<>();
    for (Headroom.Extreme x : extremes) {
      rows.add(
          new HeadroomView.AtRisk(
              x.tensor(),
              x.node(),
              x.opType(),
              x.maxAbs(),
              x.shareOfMax(),
              x.margin(),
              x.sample(),
              x.index(),
              x.shape(),
              // a graph input is not compared: it fails when FP16 cannot hold its values
              Verdicts.of(
                  x.graphInput() ? x.maxAbs() <= Headroom.FP16_MAX : passes.test(x.tensor()))));
    }
    return new HeadroomView(share, rows);
  }

  private static int worstIndex(List<TensorError> per) {
    int w = 0;
    for (int i = 1; i < per.size(); i++) {
      if (worse(per.get(i), per.get(w))) {
        w = i;
      }
    }
    return w;
  }

  private static boolean worse(TensorError a, TensorError b) {
    if (a.pass() != b.pass()) {
      return !a.pass();
    }
    return key(a) > key(b);
  }

  private static double key(TensorError e) {
    return Double.isNaN(e.normalizedError()) ? Double.POSITIVE_INFINITY : e.normalizedError();
  }
}
