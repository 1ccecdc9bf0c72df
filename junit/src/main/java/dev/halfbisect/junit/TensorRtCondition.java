package dev.halfbisect.junit;

import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The {@link ExecutionCondition} behind {@link RequiresTensorRT}: enabled when the {@code trt}
 * backend is found and available. The availability probe runs once per JVM.
 */
public final class TensorRtCondition implements ExecutionCondition {
  private static volatile ConditionEvaluationResult cached;

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    ConditionEvaluationResult r = cached;
    if (r == null) {
      r = evaluate();
      cached = r;
    }
    return r;
  }

  static ConditionEvaluationResult evaluate() {
    Backend trt = Backends.all().get("trt");
    if (trt == null) {
      return ConditionEvaluationResult.disabled(
          "TensorRT not available: no 'trt' backend on the class path "
              + "(add dev.halfbisect:halfbisect-tensorrt)");
    }
    Availability a = trt.availability();
    return a.available()
        ? ConditionEvaluationResult.enabled("TensorRT available")
        : ConditionEvaluationResult.disabled("TensorRT not available: " + a.reason());
  }
}
