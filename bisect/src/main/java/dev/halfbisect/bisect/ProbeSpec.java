package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.util.List;

/**
 * One probe: which graph is built (the whole model, a prefix, a shadow graph or an explicit
 * subgraph), on which side, under which plan, observing which tensors. Equal specs over the same
 * model and samples give the same result, which is what makes the {@link ProbeJournal} work.
 *
 * @param kind what graph is built
 * @param side reference (FP32) or candidate (FP16 under {@code plan})
 * @param plan the precision plan of a candidate probe (ignored on the reference side)
 * @param observed tensors whose values are returned (original ONNX names)
 * @param nodes for {@link Kind#SHADOW}: the nodes copied; for {@link Kind#SUBGRAPH}: the nodes kept
 * @param cutInputs for {@link Kind#SUBGRAPH}: tensors fed with golden reference values
 */
public record ProbeSpec(
    Kind kind,
    Side side,
    PrecisionPlan plan,
    ImmutableList<String> observed,
    ImmutableList<String> nodes,
    ImmutableList<String> cutInputs) {

  /** What graph a probe builds. */
  public enum Kind {
    /** The whole model; observed tensors are marked as extra outputs. */
    FULL,
    /** The ancestors of {@code observed[0]} from the graph inputs; all observed must lie in it. */
    PREFIX,
    /** The whole model pinned FP32 plus an FP16 copy of each listed node fed the FP32 inputs. */
    SHADOW,
    /** The listed nodes only, cut inputs fed golden values. */
    SUBGRAPH
  }

  /** Which run a probe belongs to. */
  public enum Side {
    REFERENCE,
    CANDIDATE
  }

  public ProbeSpec {
    Preconditions.checkNotNull(kind, "kind");
    Preconditions.checkNotNull(side, "side");
    Preconditions.checkNotNull(plan, "plan");
    observed = ImmutableList.copyOf(observed);
    nodes = ImmutableList.copyOf(nodes);
    cutInputs = ImmutableList.copyOf(cutInputs);
  }

  public static ProbeSpec full(Side side, PrecisionPlan plan, List<String> observed) {
    return new ProbeSpec(
        Kind.FULL,
        side,
        plan,
        ImmutableList.copyOf(observed),
        ImmutableList.of(),
        ImmutableList.of());
  }

  public static ProbeSpec prefix(PrecisionPlan plan, List<String> observed) {
    return new ProbeSpec(
        Kind.PREFIX,
        Side.CANDIDATE,
        plan,
        ImmutableList.copyOf(observed),
        ImmutableList.of(),
        ImmutableList.of());
  }

  public static ProbeSpec shadow(List<String> nodes, List<String> observed) {
    return new ProbeSpec(
        Kind.SHADOW,
        Side.CANDIDATE,
        PrecisionPlan.allFp16(),
        ImmutableList.copyOf(observed),
        ImmutableList.copyOf(nodes),
        ImmutableList.of());
  }

  public static ProbeSpec subgraph(
      Side side,
      PrecisionPlan plan,
      List<String> nodes,
      List<String> cutInputs,
      List<String> observed) {
    return new ProbeSpec(
        Kind.SUBGRAPH,
        side,
        plan,
        ImmutableList.copyOf(observed),
        ImmutableList.copyOf(nodes),
        ImmutableList.copyOf(cutInputs));
  }

  /** Short text for logs. */
  public String describe() {
    return kind.name().toLowerCase(java.util.Locale.ROOT)
        + "/"
        + side.name().toLowerCase(java.util.Locale.ROOT)
        + (side == Side.CANDIDATE ? " pinned=" + plan.fp32Nodes().size() : "")
        + " observed="
        + observed.size()
        + (nodes.isEmpty() ? "" : " nodes=" + nodes.size());
  }
}
