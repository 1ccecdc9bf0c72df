package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import dev.halfbisect.core.LowPrecision;

/**
 * The two backends of an analysis, as {@code backend:mode} strings (e.g. {@code ort:fp32}), and
 * (issue 19) the low-precision type the candidate tested, {@code fp16} or {@code bf16}, written to
 * JSON as {@code lowPrecision} (derived from the candidate mode, ignored when read back).
 */
@JsonPropertyOrder({"reference", "candidate", "lowPrecision"})
@JsonIgnoreProperties(
    value = {"lowPrecision"},
    allowGetters = true)
public record BackendPair(String reference, String candidate) {
  public BackendPair {
    Preconditions.checkNotNull(reference, "backend.reference");
    Preconditions.checkNotNull(candidate, "backend.candidate");
  }

  public static BackendPair of(String reference, String candidate) {
    return new BackendPair(reference, candidate);
  }

  /** The candidate's low-precision type (from its mode: {@code bf16} modes test BF16). */
  public LowPrecision candidateType() {
    int colon = candidate.indexOf(':');
    return LowPrecision.ofMode(colon < 0 ? candidate : candidate.substring(colon + 1));
  }

  /** {@code fp16} or {@code bf16}: {@link #candidateType()} as JSON writes it. */
  @JsonProperty("lowPrecision")
  public String lowPrecision() {
    return candidateType().id();
  }
}
