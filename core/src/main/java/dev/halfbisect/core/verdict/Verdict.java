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

  /**
   * {@link #check} of a normalized-mode verdict whose reference was ~0 relative to FP16's
   * resolution, decided by the absolute fallback ({@link Tolerance#isNearZero}).
   */
  public static final String NEAR_ZERO_CHECK = "near-zero";

  /** Whether the normalized error was not meaningful here and the near-zero fallback decided. */
  public boolean nearZeroReference() {
    return NEAR_ZERO_CHECK.equals(check);
  }

  /** {@code "pass"} or {@code "fail"}, as written in JSON reports. */
  public String word() {
    return pass ? "pass" : "fail";
  }
}
