package dev.halfbisect.report.mapping;

import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.bisect.TensorComparison;
import dev.halfbisect.core.verdict.Verdict;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.text.Fmt;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Report warnings about what the FP16 verdicts mean (issue 15): tensors whose reference is ~0
 * relative to FP16's resolution (normalized error not meaningful, absolute fallback used), and
 * nodes TensorRT folds away at parse time (never proposed as fixes).
 */
public final class ParseTimeNotes {
  /** Names listed in one line before "..." . */
  static final int MAX_LISTED = 5;

  private ParseTimeNotes() {}

  /**
   * One line per tensor (or one summary line for many) whose verdict used the near-zero fallback on
   * its worst sample.
   */
  public static List<String> nearZero(Collection<TensorComparison> comparisons) {
    List<TensorComparison> near = new ArrayList<>();
    for (TensorComparison c : comparisons) {
      if (c.worst().verdict().nearZeroReference()) {
        near.add(c);
      }
    }
    if (near.isEmpty()) {
      return List.of();
    }
    if (near.size() <= 2) {
      List<String> out = new ArrayList<>();
      for (TensorComparison c : near) {
        Verdict v = c.worst().verdict();
        out.add(
            "normalized error is not meaningful for "
                + c.tensor()
                + ": its reference is ~0 (max |r| "
                + Fmt.sci(c.worst().stats().refMaxAbs())
                + " < FP16's smallest normal 6.1e-05); judged instead by max abs error "
                + Fmt.sci(v.observed())
                + " against "
                + Fmt.sci(v.limit())
                + " (half the reference's range): "
                + v.word());
      }
      return out;
    }
    List<String> names = near.stream().map(TensorComparison::tensor).toList();
    long failing = near.stream().filter(c -> !c.pass()).count();
    return List.of(
        near.size()
            + " tensors have a reference that is ~0 relative to FP16's resolution (max |r| < 6.1e-05):"
            + " normalized error is not meaningful there and they are judged by max abs error"
            + " against half their range ("
            + failing
            + " fail): "
            + list(names));
  }

  /** The note listing nodes TensorRT folds away, or empty when there are none. */
  public static Optional<String> folded(ModelGraph g) {
    List<String> folded =
        g.foldedNodes().stream()
            .filter(n -> !g.node(n).getOpType().equals("Constant"))
            .sorted(java.util.Comparator.comparingInt(g::topoPosition))
            .toList();
    if (folded.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        folded.size()
            + (folded.size() == 1 ? " node is" : " nodes are")
            + " folded by TensorRT at parse time (BatchNormalization fused into its Conv, constant"
            + " subgraphs evaluated in FP32) and never proposed for FP32: "
            + list(folded));
  }

  /** {@code report} with the {@link #folded} note added to its warnings (when there is one). */
  public static AnalysisReport withFolded(AnalysisReport report, ModelGraph g) {
    Optional<String> note = folded(g);
    if (note.isEmpty()) {
      return report;
    }
    List<String> w = new ArrayList<>(report.warnings() == null ? List.of() : report.warnings());
    if (!w.contains(note.get())) {
      w.add(note.get());
    }
    return report.withWarnings(List.copyOf(w));
  }

  /**
   * Warnings for the nodes amplification did not measure: the folded ones in one line (they are
   * covered by {@link #folded}), the others one line each.
   */
  static List<String> unmeasured(Map<String, String> unmeasured) {
    List<String> w = new ArrayList<>();
    new TreeMap<>(unmeasured)
        .forEach(
            (n, why) -> {
              if (!why.equals(Amplification.FOLDED_BY_TENSORRT)) {
                w.add("local error not measured for " + n + ": " + why);
              }
            });
    return w;
  }

  private static String list(List<String> names) {
    return String.join(", ", names.subList(0, Math.min(MAX_LISTED, names.size())))
        + (names.size() > MAX_LISTED ? ", ..." : "");
  }
}
