package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;

/** The two backends of an analysis, as {@code backend:mode} strings (e.g. {@code ort:fp32}). */
@JsonPropertyOrder({"reference", "candidate"})
public record BackendPair(String reference, String candidate) {
  public BackendPair {
    Preconditions.checkNotNull(reference, "backend.reference");
    Preconditions.checkNotNull(candidate, "backend.candidate");
  }

  public static BackendPair of(String reference, String candidate) {
    return new BackendPair(reference, candidate);
  }
}
