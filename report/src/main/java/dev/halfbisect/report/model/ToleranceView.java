package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import javax.annotation.CheckForNull;

/**
 * The tolerance an analysis used.
 *
 * @param description the tolerance in words, e.g. {@code normalized error <= 0.01, finite where the
 *     reference is finite}
 * @param normalizedErrorLimit the normalized-error limit drawn as the tolerance line, when the
 *     check is on normalized error
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"description", "normalizedErrorLimit"})
public record ToleranceView(String description, @CheckForNull Double normalizedErrorLimit) {
  /** The normalized-error limit of the default FP16 verdict (DESIGN.md). */
  public static final double DEFAULT_NORMALIZED_ERROR_LIMIT = 1e-2;

  @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
  public ToleranceView(
      @JsonProperty("description") String description,
      @JsonProperty("normalizedErrorLimit") @CheckForNull Double normalizedErrorLimit) {
    this.description = Preconditions.checkNotNull(description, "tolerance description");
    this.normalizedErrorLimit = normalizedErrorLimit;
  }

  /** A tolerance written as a plain string (documents that carry only the description). */
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  static ToleranceView fromText(String description) {
    return new ToleranceView(description, null);
  }

  /** The default FP16 verdict of DESIGN.md. */
  public static ToleranceView fp16Default() {
    return new ToleranceView(
        "normalized error <= 0.01 and finite wherever the reference is finite",
        DEFAULT_NORMALIZED_ERROR_LIMIT);
  }

  public static ToleranceView of(String description, @CheckForNull Double normalizedErrorLimit) {
    return new ToleranceView(description, normalizedErrorLimit);
  }

  /** The limit to draw; the default 1e-2 when the tolerance is not on normalized error. */
  public double limitOrDefault() {
    return normalizedErrorLimit == null ? DEFAULT_NORMALIZED_ERROR_LIMIT : normalizedErrorLimit;
  }
}
