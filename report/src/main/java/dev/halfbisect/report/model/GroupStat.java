package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Collection;

/** Aggregate of amplification rows over one op type or motif. */
@JsonPropertyOrder({
  "count",
  "maxAmplification",
  "meanAmplification",
  "maxLocalError",
  "maxOutputError",
  "finiteAmplifications"
})
public record GroupStat(
    int count,
    double maxAmplification,
    double meanAmplification,
    double maxLocalError,
    double maxOutputError,
    int finiteAmplifications) {

  /**
   * Aggregates rows; non-finite amplifications count as +inf for the maximum and are left out of
   * the mean, which is over {@code finiteAmplifications} of the {@code count} rows (the reports say
   * so when some are left out).
   */
  public static GroupStat of(Collection<NodeRow> rows) {
    double max = 0, sum = 0, local = 0, out = 0;
    int finite = 0;
    for (NodeRow r : rows) {
      max = Math.max(max, Double.isNaN(r.amplification()) ? 0 : r.amplification());
      if (Double.isFinite(r.amplification())) {
        sum += r.amplification();
        finite++;
      }
      local = Math.max(local, r.localError());
      out = Math.max(out, r.outputError());
    }
    return new GroupStat(rows.size(), max, finite == 0 ? 0 : sum / finite, local, out, finite);
  }
}
