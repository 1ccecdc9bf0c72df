package dev.halfbisect.report.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import javax.annotation.CheckForNull;

/** byOpType / byMotif aggregates of amplification rows. */
final class Aggregates {
  private Aggregates() {}

  @CheckForNull
  static Map<String, GroupStat> byOpType(@CheckForNull List<NodeRow> rows) {
    return group(rows, NodeRow::opType);
  }

  @CheckForNull
  static Map<String, GroupStat> byMotif(@CheckForNull List<NodeRow> rows) {
    return group(rows, NodeRow::motif);
  }

  @CheckForNull
  private static Map<String, GroupStat> group(
      @CheckForNull List<NodeRow> rows, Function<NodeRow, String> key) {
    if (rows == null) {
      return null;
    }
    Map<String, List<NodeRow>> groups = new TreeMap<>();
    for (NodeRow r : rows) {
      String k = key.apply(r);
      if (k != null) {
        groups.computeIfAbsent(k, x -> new ArrayList<>()).add(r);
      }
    }
    if (groups.isEmpty()) {
      return null;
    }
    Map<String, GroupStat> out = new TreeMap<>();
    groups.forEach((k, v) -> out.put(k, GroupStat.of(v)));
    return out;
  }
}
