package dev.halfbisect.report.model;

import com.google.common.base.Preconditions;

/** The two verdict words of the JSON contract. */
public final class Verdicts {
  public static final String PASS = "pass";
  public static final String FAIL = "fail";

  private Verdicts() {}

  public static String of(boolean pass) {
    return pass ? PASS : FAIL;
  }

  static String check(String verdict, String what) {
    Preconditions.checkArgument(
        PASS.equals(verdict) || FAIL.equals(verdict),
        "%s must be \"pass\" or \"fail\", got %s",
        what,
        verdict);
    return verdict;
  }
}
