package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import javax.annotation.CheckForNull;

/**
 * One observed tensor of a layerwise comparison, in topological order. The first six fields are the
 * contract of {@code "tensors"}; the rest is optional evidence (null = not measured) used by
 * root-cause classification and the block table.
 *
 * @param name ONNX tensor name
 * @param node ONNX name of the producing node
 * @param opType op type of the producing node
 * @param normalizedError ||c - r|| / ||r|| (infinite when the candidate is not finite)
 * @param maxAbs max |c - r|
 * @param verdict {@code "pass"} or {@code "fail"}
 * @param refMaxAbs largest finite |reference| value
 * @param elements elements compared (all samples)
 * @param nonFiniteWhereRefFinite candidate inf/NaN where the reference is finite
 * @param refCountAboveFp16Max reference elements with |r| > 65504
 * @param refCountBelowFp16MinNormal reference elements with 0 < |r| < 2^-14
 * @param refCountBelowFp16MinSubnormal reference elements with 0 < |r| < 2^-24 (flushed to zero)
 * @param block block label ({@code BlockDetector}), when the name carries one
 * @param motif motif the node belongs to (LayerNorm, GELU, Softmax, Attention ...), when known
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "name",
  "node",
  "opType",
  "normalizedError",
  "maxAbs",
  "verdict",
  "refMaxAbs",
  "elements",
  "nonFiniteWhereRefFinite",
  "refCountAboveFp16Max",
  "refCountBelowFp16MinNormal",
  "refCountBelowFp16MinSubnormal",
  "block",
  "motif"
})
public record TensorRow(
    String name,
    String node,
    String opType,
    double normalizedError,
    double maxAbs,
    String verdict,
    @CheckForNull Double refMaxAbs,
    @CheckForNull Long elements,
    @CheckForNull Long nonFiniteWhereRefFinite,
    @CheckForNull Long refCountAboveFp16Max,
    @CheckForNull Long refCountBelowFp16MinNormal,
    @CheckForNull Long refCountBelowFp16MinSubnormal,
    @CheckForNull String block,
    @CheckForNull String motif) {

  public TensorRow {
    Preconditions.checkNotNull(name, "tensor name");
    Preconditions.checkNotNull(node, "node of tensor %s", name);
    Preconditions.checkNotNull(opType, "opType of tensor %s", name);
    Verdicts.check(verdict, "verdict of tensor " + name);
  }

  /** A row with only the contract fields. */
  public static TensorRow of(
      String name,
      String node,
      String opType,
      double normalizedError,
      double maxAbs,
      boolean pass) {
    return new TensorRow(
        name,
        node,
        opType,
        normalizedError,
        maxAbs,
        Verdicts.of(pass),
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  public boolean passed() {
    return Verdicts.PASS.equals(verdict);
  }

  /** This row with reference-range evidence (from the core ErrorStats of the tensor). */
  public TensorRow withEvidence(
      double refMaxAbs,
      long elements,
      long nonFiniteWhereRefFinite,
      long aboveFp16Max,
      long belowFp16MinNormal,
      long belowFp16MinSubnormal) {
    return new TensorRow(
        name,
        node,
        opType,
        normalizedError,
        maxAbs,
        verdict,
        refMaxAbs,
        elements,
        nonFiniteWhereRefFinite,
        aboveFp16Max,
        belowFp16MinNormal,
        belowFp16MinSubnormal,
        block,
        motif);
  }

  public TensorRow withBlock(@CheckForNull String b) {
    return withLabels(b, motif);
  }

  public TensorRow withMotif(@CheckForNull String m) {
    return withLabels(block, m);
  }

  /** This row with other block and motif labels. */
  private TensorRow withLabels(@CheckForNull String b, @CheckForNull String m) {
    return new TensorRow(
        name,
        node,
        opType,
        normalizedError,
        maxAbs,
        verdict,
        refMaxAbs,
        elements,
        nonFiniteWhereRefFinite,
        refCountAboveFp16Max,
        refCountBelowFp16MinNormal,
        refCountBelowFp16MinSubnormal,
        b,
        m);
  }
}
