package dev.halfbisect.cli;

import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.Fp16Emulation;
import dev.halfbisect.onnx.OnnxModel;

/** The two FP16 rewrites of onnx-surgery, with plan names checked against the model first. */
final class Fp16Rewrites {
  private Fp16Rewrites() {}

  static OnnxModel convert(OnnxModel m, PrecisionPlan plan) {
    check(m, plan);
    return Fp16Conversion.apply(m, plan).model();
  }

  static OnnxModel emulate(OnnxModel m, PrecisionPlan plan) {
    check(m, plan);
    return Fp16Emulation.apply(m, plan);
  }

  private static void check(OnnxModel m, PrecisionPlan plan) {
    for (String n : plan.fp32Nodes()) {
      m.index().node(n); // throws UnknownNameException (usage error) listing close names
    }
  }
}
