package dev.halfbisect.report.render;

import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.GroupStat;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.TensorRow;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Orderings the renderers share. */
final class Ranking {
  private Ranking() {}

  /** Nodes by amplification, largest first (NaN last), at most {@code n}. */
  static List<NodeRow> topAmplifiers(AnalysisReport r, int n) {
    return r.nodesOrEmpty().stream()
        .sorted(
            Comparator.comparingDouble(
                    (NodeRow x) -> Double.isNaN(x.amplification()) ? -1 : x.amplification())
                .reversed()
                .thenComparing(NodeRow::node))
        .limit(n)
        .collect(Collectors.toList());
  }

  /** Groups by max amplification, largest first, at most {@code n}. */
  static List<Map.Entry<String, GroupStat>> topGroups(Map<String, GroupStat> groups, int n) {
    return groups.entrySet().stream()
        .sorted(
            Comparator.comparingDouble(
                    (Map.Entry<String, GroupStat> e) -> e.getValue().maxAmplification())
                .reversed()
                .thenComparing(Map.Entry::getKey))
        .limit(n)
        .collect(Collectors.toList());
  }

  /** Tensors by normalized error, largest first, at most {@code n}. */
  static List<TensorRow> worstTensors(AnalysisReport r, int n) {
    return r.tensorsOrEmpty().stream()
        .sorted(
            Comparator.comparingDouble(
                    (TensorRow t) ->
                        Double.isNaN(t.normalizedError()) ? Double.MAX_VALUE : t.normalizedError())
                .reversed()
                .thenComparing(TensorRow::name))
        .limit(n)
        .collect(Collectors.toList());
  }
}
