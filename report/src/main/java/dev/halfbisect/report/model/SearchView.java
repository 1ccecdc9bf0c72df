package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import javax.annotation.CheckForNull;

/**
 * How a precision search ended and whether its plan holds beyond the samples it was searched on
 * (issue 15).
 *
 * @param stopReason why the search stopped (1-minimal, build cap reached with the best passing plan
 *     so far, no plan can fix it)
 * @param maxBuilds the build cap it ran under (null: none)
 * @param searchSamples samples the search used
 * @param holdout the plan on the held-out samples (null: none held out)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"stopReason", "maxBuilds", "searchSamples", "holdout"})
public record SearchView(
    String stopReason,
    @CheckForNull Integer maxBuilds,
    int searchSamples,
    @CheckForNull SampleSummary holdout) {

  /** Whether the plan passed on every held-out sample (true when none was held out). */
  public boolean holdsOnHoldout() {
    return holdout == null || holdout.passed() == holdout.count();
  }
}
