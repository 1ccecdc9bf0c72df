package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.onnx.ConvertedModelPlan;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.OnnxModelException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

  /**
   * Reads {@code convertedModel} and derives its FP32 set for {@code graph}'s model.
   *
   * @throws HalfBisectException (usage) when the file is missing or not a converted form of the
   *     model; (model) when it cannot be read
   */
  static PlanFrom read(Path convertedModel, ModelGraph graph) {
    Preconditions.checkNotNull(convertedModel, "convertedModel");
    if (!Files.isRegularFile(convertedModel)) {
      throw HalfBisectException.usage("--plan-from " + convertedModel + ": no such file");
    }
    OnnxModel converted;
    try {
      converted = OnnxModel.load(convertedModel);
    } catch (OnnxModelException | UncheckedIOException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.MODEL,
          "--plan-from " + convertedModel + ": cannot read the model: " + e.getMessage(),
          e);
    }
    try {
      return new PlanFrom(
          convertedModel.getFileName().toString(),
          ConvertedModelPlan.derive(converted, graph.model()));
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage("--plan-from " + convertedModel + ": " + e.getMessage());
    }
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
