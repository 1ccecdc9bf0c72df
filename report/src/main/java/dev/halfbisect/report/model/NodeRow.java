package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;
import javax.annotation.CheckForNull;

/**
 * Amplification of one node: local error (FP16 copy fed FP32 inputs), worst input error, output
 * error of the full FP16 run, and amplification = outputError / inputError.
 *
 * @param motif motif of the node (LayerNorm, GELU, ...), when known
 * @param block block label, when the name carries one
 * @param inputs float input tensors of the node, when known (evidence for root causes)
 * @param weightMaxAbs largest |value| of the node's initializer inputs, when known
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "node",
  "opType",
  "motif",
  "block",
  "localError",
  "inputError",
  "outputError",
  "amplification",
  "inputs",
  "weightMaxAbs"
})
public record NodeRow(
    String node,
    String opType,
    @CheckForNull String motif,
    @CheckForNull String block,
    double localError,
    double inputError,
    double outputError,
    double amplification,
    @CheckForNull List<String> inputs,
    @CheckForNull Double weightMaxAbs) {
  public NodeRow {
    Preconditions.checkNotNull(node, "node name");
    Preconditions.checkNotNull(opType, "opType of node %s", node);
    inputs = inputs == null ? null : ImmutableList.copyOf(inputs);
  }

  public static NodeRow of(
      String node,
      String opType,
      double localError,
      double inputError,
      double outputError,
      double amplification) {
    return new NodeRow(
        node, opType, null, null, localError, inputError, outputError, amplification, null, null);
  }

  public NodeRow withMotif(@CheckForNull String m) {
    return new NodeRow(
        node,
        opType,
        m,
        block,
        localError,
        inputError,
        outputError,
        amplification,
        inputs,
        weightMaxAbs);
  }

  public NodeRow withBlock(@CheckForNull String b) {
    return new NodeRow(
        node,
        opType,
        motif,
        b,
        localError,
        inputError,
        outputError,
        amplification,
        inputs,
        weightMaxAbs);
  }

  public NodeRow withInputs(List<String> in, @CheckForNull Double wMaxAbs) {
    return new NodeRow(
        node,
        opType,
        motif,
        block,
        localError,
        inputError,
        outputError,
        amplification,
        in,
        wMaxAbs);
  }
}
