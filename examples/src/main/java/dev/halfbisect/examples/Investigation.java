package dev.halfbisect.examples;

import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.bisect.Amplification.NodeAmplification;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.Layerwise.TensorReport;
import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.core.metrics.ErrorStats;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Shared steps of the examples: configure the facade, pick findings out of its results, format
 * numbers.
 */
final class Investigation {
  private Investigation() {}

  /** The facade on the example's model and inputs, with the backends of {@code o} where given. */
  static HalfBisect facade(Example ex, ExampleOptions o, long seed) {
    return configure(HalfBisect.model(ex.buildModel()).seed(seed), ex, o);
  }

  /** {@code hb} with the example's inputs and the backends and output folder of {@code o}. */
  static HalfBisect configure(HalfBisect hb, Example ex, ExampleOptions o) {
    for (InputSpec s : ex.inputs()) {
      hb = hb.input(s);
    }
    if (o.reference().isPresent()) {
      hb = hb.reference(o.reference().get());
    }
    if (o.candidate().isPresent()) {
      hb = hb.candidate(o.candidate().get());
    }
    return o.outDir().isPresent() ? hb.outDir(o.outDir().get()) : hb;
  }

  /**
   * The {@code n} nodes with the largest finite amplification among nodes whose inputs carry error.
   */
  static List<NodeAmplification> topAmplifications(List<NodeAmplification> nodes, int n) {
    return nodes.stream()
        .filter(x -> Double.isFinite(x.amplification()) && x.inputError() > 0)
        .sorted(Comparator.comparingDouble(NodeAmplification::amplification).reversed())
        .limit(n)
        .collect(Collectors.toList());
  }

  /**
   * The scope of a PyTorch-style node name: {@code /blocks/blocks.5/mlp/act/Erf} -> {@code
   * /blocks/blocks.5/mlp/act}.
   */
  static String scopeOf(String node) {
    int i = node.lastIndexOf('/');
    return i <= 0 ? node : node.substring(0, i);
  }

  static String err(double v) {
    if (Double.isInfinite(v)) {
      return "inf";
    }
    if (Double.isNaN(v)) {
      return "nan";
    }
    return String.format(Locale.ROOT, "%.2e", v);
  }

  /** Worst-sample statistics of a tensor. */
  static ErrorStats stats(TensorReport t) {
    return t.error().worst().stats();
  }

  /** The report of tensor {@code name}. */
  static TensorReport tensor(Layerwise.Result lw, String name) {
    return lw.tensors().stream()
        .filter(t -> t.tensor().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("tensor " + name + " was not observed"));
  }

  /** One line: {@code tensor (Op node): normalized error, max abs, pass/FAIL}. */
  static String describeOne(TensorReport t) {
    ErrorStats s = stats(t);
    return t.tensor()
        + " ("
        + t.opType()
        + " "
        + t.node()
        + "): normalized error "
        + err(s.normalizedError())
        + ", max abs "
        + err(s.maxAbs())
        + (s.nonFiniteWhereRefFinite() > 0
            ? ", " + s.nonFiniteWhereRefFinite() + " new inf/NaN"
            : "")
        + ", "
        + (t.pass() ? "pass" : "FAIL");
  }

  static String describe(Optional<TensorReport> t) {
    return t.map(
            x ->
                x.node()
                    + " ("
                    + x.opType()
                    + "), normalized error "
                    + err(Investigation.stats(x).normalizedError())
                    + (Investigation.stats(x).nonFiniteWhereRefFinite() > 0
                        ? ", " + Investigation.stats(x).nonFiniteWhereRefFinite() + " new inf/NaN"
                        : "")
                    + ", reference max |x| "
                    + String.format(Locale.ROOT, "%.4g", Investigation.stats(x).refMaxAbs()))
        .orElse("none: every tensor passes");
  }
}
