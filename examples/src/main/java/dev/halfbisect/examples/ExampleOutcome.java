package dev.halfbisect.examples;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What an example found: the first divergent node, the motif where error is amplified most, the
 * FP32 fix and whether it passes, plus example-specific facts (numbers the example printed).
 *
 * @param example the example's name
 * @param firstDivergentNode ONNX node whose output first fails the tolerance ("" when none fails)
 * @param firstDivergentOpType its op type ("" when none)
 * @param amplificationNode node whose output error grows most over its inputs' error ("" if none)
 * @param motif what the amplification node belongs to, e.g. {@code GELU (mlp/act)}
 * @param fp32Nodes the fix: nodes to keep in FP32 (empty when the model passes as is)
 * @param fixPasses whether the candidate passes with that fix (true when nothing needed fixing)
 * @param facts example-specific findings by name (numbers as doubles, names as strings)
 */
public record ExampleOutcome(
    String example,
    String firstDivergentNode,
    String firstDivergentOpType,
    String amplificationNode,
    String motif,
    List<String> fp32Nodes,
    boolean fixPasses,
    Map<String, Object> facts) {

  public ExampleOutcome {
    Preconditions.checkNotNull(example, "example");
    firstDivergentNode = firstDivergentNode == null ? "" : firstDivergentNode;
    firstDivergentOpType = firstDivergentOpType == null ? "" : firstDivergentOpType;
    amplificationNode = amplificationNode == null ? "" : amplificationNode;
    motif = motif == null ? "" : motif;
    fp32Nodes = ImmutableList.copyOf(fp32Nodes);
    facts = ImmutableMap.copyOf(facts);
  }

  /** The first divergent node, if any tensor failed. */
  public Optional<String> firstDivergence() {
    return firstDivergentNode.isEmpty() ? Optional.empty() : Optional.of(firstDivergentNode);
  }

  /** A numeric fact. */
  public double number(String key) {
    Object v = facts.get(key);
    Preconditions.checkArgument(
        v instanceof Number,
        "example %s has no numeric fact '%s' (has %s)",
        example,
        key,
        facts.keySet());
    return ((Number) v).doubleValue();
  }

  /** A fact as text. */
  public String text(String key) {
    Object v = facts.get(key);
    Preconditions.checkArgument(
        v != null, "example %s has no fact '%s' (has %s)", example, key, facts.keySet());
    return v.toString();
  }
}
