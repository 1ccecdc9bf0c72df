package dev.halfbisect.ort;

import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.OnnxModelException;

/** Interim: onnx-surgery's Fp16Emulation is not merged yet. */
final class Emulation {
  private Emulation() {}

  static OnnxModel apply(OnnxModel model, PrecisionPlan plan) {
    throw new OnnxModelException("fp16-emulated needs onnx-surgery Fp16Emulation, not on this branch yet");
  }
}
