package dev.halfbisect.core.verdict;

/**
 * The outcome of checking one tensor against a {@link Tolerance}.
 *
 * @param tensor the checked tensor's name
 * @param pass whether it passed
 * @param reason what was checked, the observed value and the limit, in words
 * @param check the check that decided: {@code finite}, or the {@link CheckMode} in text
 * @param observed the decisive observed value (e.g. the normalized error, the largest elementwise
 *     excess); for {@code finite} the number of non-finite candidate values
 * @param limit the limit it was held against
 * @param neededToleranceName which tolerance {@link #neededTolerance} is: {@code normalizedError},
 *     {@code atol} (at the configured rtol) or {@code none} when no tolerance can pass
 * @param neededTolerance the smallest value of that tolerance that would have passed, +inf when
 *     none would (non-finite candidate where the reference is finite)
 */
public record Verdict(
    String tensor,
    boolean pass,
    String reason,
    String check,
    double observed,
    double limit,
    String neededToleranceName,
    double neededTolerance) {

  /** {@code "pass"} or {@code "fail"}, as written in JSON reports. */
  public String word() {
    return pass ? "pass" : "fail";
  }
}
