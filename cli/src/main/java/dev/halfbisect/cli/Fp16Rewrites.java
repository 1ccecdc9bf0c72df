package dev.halfbisect.cli;

import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;

/** Adapter to onnx-surgery's FP16 rewrites. */
final class Fp16Rewrites {
  private Fp16Rewrites() {}

  static OnnxModel convert(OnnxModel m, PrecisionPlan plan) {
    throw new UnsupportedOperationException("the FP16 rewrite (onnx-surgery Fp16Conversion) is not in this build");
  }

  static OnnxModel emulate(OnnxModel m, PrecisionPlan plan) {
    throw new UnsupportedOperationException("FP16 emulation (onnx-surgery Fp16Emulation) is not in this build");
  }
}
