package dev.halfbisect.report.mapping;

import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.Motifs;
import dev.halfbisect.report.model.GroupStat;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Motifs found by the amplification analysis, as the report names and aggregates them. */
final class MotifMapping {
  /** Motif kinds in the order that decides a node's motif when it belongs to several. */
  private static final List<Motifs.Kind> PRIORITY =
      List.of(
          Motifs.Kind.LAYER_NORM,
          Motifs.Kind.GELU,
          Motifs.Kind.ATTENTION_SOFTMAX,
          Motifs.Kind.CONV_BN_RELU,
          Motifs.Kind.MATMUL,
          Motifs.Kind.RESIDUAL_ADD);

  private MotifMapping() {}

  /** Node name to motif label ("LayerNorm", "GELU", "Attention", ...), by {@link #PRIORITY}. */
  static Map<String, String> labelsByNode(List<Amplification.MotifAmplification> motifs) {
    Map<String, Motifs.Kind> kind = new HashMap<>();
    for (Amplification.MotifAmplification m : motifs) {
      for (String n : m.motif().nodes()) {
        kind.merge(
            n, m.motif().kind(), (a, b) -> PRIORITY.indexOf(a) <= PRIORITY.indexOf(b) ? a : b);
      }
    }
    Map<String, String> out = new HashMap<>();
    kind.forEach((n, k) -> out.put(n, label(k)));
    return out;
  }

  static String label(Motifs.Kind k) {
    return switch (k) {
      case LAYER_NORM -> "LayerNorm";
      case GELU -> "GELU";
      case ATTENTION_SOFTMAX -> "Attention";
      case CONV_BN_RELU -> "Conv-BN-ReLU";
      case MATMUL -> "MatMul";
      case RESIDUAL_ADD -> "Residual";
    };
  }

  /**
   * {@code byMotif} aggregated over whole motif instances (error into and out of each motif), by
   * label; empty when there are no motifs.
   */
  static Map<String, GroupStat> groups(List<Amplification.MotifAmplification> motifs) {
    Map<Motifs.Kind, List<Amplification.MotifAmplification>> byKind =
        new EnumMap<>(Motifs.Kind.class);
    motifs.forEach(m -> byKind.computeIfAbsent(m.motif().kind(), k -> new ArrayList<>()).add(m));
    Map<String, GroupStat> groups = new TreeMap<>();
    byKind.forEach((k, ms) -> groups.put(label(k), group(ms)));
    return groups;
  }

  private static GroupStat group(List<Amplification.MotifAmplification> ms) {
    double max = 0;
    double sum = 0;
    int finite = 0;
    double local = 0;
    double out = 0;
    for (Amplification.MotifAmplification m : ms) {
      if (!Double.isNaN(m.amplification())) {
        max = Math.max(max, m.amplification());
      }
      if (Double.isFinite(m.amplification())) {
        sum += m.amplification();
        finite++;
      }
      local = Math.max(local, nanToZero(m.maxLocalError()));
      out = Math.max(out, nanToZero(m.outputError()));
    }
    return new GroupStat(ms.size(), max, finite == 0 ? 0 : sum / finite, local, out, finite);
  }

  private static double nanToZero(double v) {
    return Double.isNaN(v) ? 0 : v;
  }
}
