package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;
import javax.annotation.CheckForNull;

/**
 * The first tensor (topological order) that fails the tolerance, and the node producing it.
 *
 * @param error its normalized error, when measured
 * @param inputErrors normalized errors of the node's float inputs (empty when unknown)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"tensor", "node", "opType", "error", "inputErrors"})
public record FirstFailing(
    String tensor,
    String node,
    String opType,
    @CheckForNull Double error,
    @CheckForNull List<InputError> inputErrors) {
  public FirstFailing {
    Preconditions.checkNotNull(tensor, "firstFailing.tensor");
    Preconditions.checkNotNull(node, "firstFailing.node");
    Preconditions.checkNotNull(opType, "firstFailing.opType");
    inputErrors = inputErrors == null ? null : ImmutableList.copyOf(inputErrors);
  }

  public static FirstFailing of(String tensor, String node, String opType) {
    return new FirstFailing(tensor, node, opType, null, null);
  }
}
