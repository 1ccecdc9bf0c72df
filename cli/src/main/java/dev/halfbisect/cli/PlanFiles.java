package dev.halfbisect.cli;

import dev.halfbisect.core.plan.PrecisionPlan;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;

/** Reads {@code --plan PLAN.json} with one-line errors naming the file. */
final class PlanFiles {
  private PlanFiles() {}

  static PrecisionPlan read(java.nio.file.Path plan) {
    AnalysisOptions.requireFile(plan, "--plan");
    try {
      return PrecisionPlan.read(plan);
    } catch (CharacterCodingException e) {
      // A binary file: Java's "Input length = 1" says nothing to the user.
      throw new UsageException(
          "--plan "
              + plan
              + " is not a precision plan: not UTF-8 text (expected plan.json as "
              + "written by 'halfbisect precision')");
    } catch (IOException e) {
      throw new UsageException("cannot read --plan " + plan + ": " + Failures.reason(e));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--plan " + e.getMessage());
    }
  }
}
