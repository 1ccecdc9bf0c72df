package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import dev.halfbisect.onnx.ConvertedModelPlan;

/**
 * A plan read from an existing mixed-precision model (issue 19, {@code planFrom}): where it came
 * from and what it keeps in FP32. {@code compare} and the other analyses run the candidate under
 * it; {@code precision} starts from its FP32 set and shrinks it.
 *
 * @param source the converted model's file name
 * @param derived what the converted model keeps in FP32, mapped to the model's node names
 */
record PlanFrom(String source, ConvertedModelPlan.Derived derived) {
  PlanFrom {
    Preconditions.checkNotNull(source, "source");
    Preconditions.checkNotNull(derived, "derived");
  }

  /** The report note: style, counts and the type the converted model uses. */
  String note() {
    return "plan from " + derived.describe(source);
  }

  /** The note after {@code precision} shrank the set to {@code kept} nodes. */
  String shrinkNote(int kept, boolean givenPassed) {
    int given = derived.fp32Nodes().size();
    if (!givenPassed) {
      return source
          + "'s FP32 set of "
          + given
          + " nodes fails the tolerance; the plan was searched from scratch";
    }
    return (given - kept)
        + " of the "
        + given
        + " FP32 nodes of "
        + source
        + " were unnecessary: the plan keeps "
        + kept;
  }
}
