package dev.halfbisect.cli;

import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.Fp16Emulation;
import dev.halfbisect.onnx.OnnxModel;

/** The two FP16 rewrites of onnx-surgery, with plan names checked against the model first. */
final class Fp16Rewrites {
  private Fp16Rewrites() {}

  static OnnxModel convert(OnnxModel m, PrecisionPlan plan) {
    return convert(m, plan, LowPrecision.FP16);
  }

  static OnnxModel emulate(OnnxModel m, PrecisionPlan plan) {
    return emulate(m, plan, LowPrecision.FP16);
  }

  /** The Cast-placed model in {@code low}'s type (issue 19: {@code --type bf16}). */
  static OnnxModel convert(OnnxModel m, PrecisionPlan plan, LowPrecision low) {
    check(m, plan);
    return Fp16Conversion.apply(m, plan, low).model();
  }

  /** The storage emulation in {@code low}'s type. */
  static OnnxModel emulate(OnnxModel m, PrecisionPlan plan, LowPrecision low) {
    check(m, plan);
    return Fp16Emulation.apply(m, plan, low);
  }

  private static void check(OnnxModel m, PrecisionPlan plan) {
    for (String n : plan.fp32Nodes()) {
      m.index().node(n); // throws UnknownNameException (usage error) listing close names
    }
  }
}
