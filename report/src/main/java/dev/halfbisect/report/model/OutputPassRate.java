package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import javax.annotation.CheckForNull;

/**
 * One graph output over the sample set (issue 15).
 *
 * @param tensor ONNX tensor name
 * @param passed samples on which it passed
 * @param count samples compared
 * @param worstSample index of its worst sample
 * @param worstNormalizedError its normalized error there
 * @param boundShare worst normalized error / the normalized-error bound, when the tolerance is the
 *     normalized check (null otherwise); a pass at 0.8 or more is close to failing
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "tensor",
  "passed",
  "count",
  "worstSample",
  "worstNormalizedError",
  "boundShare"
})
public record OutputPassRate(
    String tensor,
    int passed,
    int count,
    int worstSample,
    double worstNormalizedError,
    @CheckForNull Double boundShare) {

  /** Share of the bound from which a pass is reported as close ("passes at 80% of the bound"). */
  public static final double NEAR_BOUND = 0.8;

  /** Whether it passed on every sample but within 20% of the bound. */
  public boolean passesNearBound() {
    return passed == count && boundShare != null && boundShare >= NEAR_BOUND;
  }
}
