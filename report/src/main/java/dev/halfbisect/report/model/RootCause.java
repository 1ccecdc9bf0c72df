package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * Why one hotspot node loses accuracy in FP16, the evidence for it, and what to do.
 *
 * @param node ONNX node name
 * @param opType its op type
 * @param cause the class of the error
 * @param evidence one sentence with the numbers that decided the class
 * @param suggestions concrete fixes, most specific first
 */
@JsonPropertyOrder({"node", "opType", "cause", "evidence", "suggestions"})
public record RootCause(
    String node, String opType, Cause cause, String evidence, List<String> suggestions) {
  public RootCause {
    Preconditions.checkNotNull(node, "root cause node");
    Preconditions.checkNotNull(opType, "root cause opType");
    Preconditions.checkNotNull(cause, "root cause class");
    Preconditions.checkNotNull(evidence, "root cause evidence");
    suggestions = ImmutableList.copyOf(suggestions);
  }

  /** Error classes. */
  public enum Cause {
    /** Values beyond FP16's range (|x| > 65504) or inf/NaN where the reference is finite. */
    OVERFLOW("overflow"),
    /** Values below FP16's normal/subnormal range flushed or losing precision. */
    UNDERFLOW("underflow"),
    /** Error born in the node by FP16 rounding or accumulation. */
    ROUNDING_ACCUMULATION("rounding-accumulation"),
    /** Small local error, large output error: inherited from upstream and magnified. */
    AMPLIFIED("amplified");

    private final String word;

    Cause(String word) {
      this.word = word;
    }

    @JsonValue
    public String word() {
      return word;
    }

    @JsonCreator
    public static Cause fromWord(String w) {
      for (Cause c : values()) {
        if (c.word.equals(w)) {
          return c;
        }
      }
      throw new IllegalArgumentException(
          "unknown root cause class '"
              + w
              + "', expected overflow, underflow, rounding-accumulation or amplified");
    }
  }
}
