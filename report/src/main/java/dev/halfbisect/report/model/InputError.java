package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;

/** Normalized error of one input tensor of a node. */
@JsonPropertyOrder({"tensor", "error"})
public record InputError(String tensor, double error) {
  public InputError {
    Preconditions.checkNotNull(tensor, "input tensor name");
  }
}
