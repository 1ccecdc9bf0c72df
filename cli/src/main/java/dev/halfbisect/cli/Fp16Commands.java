package dev.halfbisect.cli;

import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code surgeon fp16} and {@code surgeon emulate}: the two rewrites of a precision plan. */
final class Fp16Commands {
  private Fp16Commands() {}

  abstract static class WithPlan extends SurgeonCommand.ModelInOut {
    @Option(
        names = "--plan",
        paramLabel = "PLAN.json",
        description = "precision plan (default: all FP16)")
    Path plan;

    PrecisionPlan plan() {
      if (plan == null) {
        return PrecisionPlan.allFp16();
      }
      return PlanFiles.read(plan);
    }
  }

  @Command(
      name = "fp16",
      mixinStandardHelpOptions = true,
      description =
          "Rewrite the model to FP16 under the plan (Casts at FP16/FP32 borders): the strongly typed "
              + "TensorRT input.")
  static final class Fp16 extends WithPlan {
    @Override
    OnnxModel apply(OnnxModel m) {
      return Fp16Rewrites.convert(m, plan());
    }
  }

  @Command(
      name = "emulate",
      mixinStandardHelpOptions = true,
      description =
          "Insert FP16 emulation (Cast pairs around every FP16 node, weights pre-rounded); runs on any "
              + "FP32 runtime.")
  static final class Emulate extends WithPlan {
    @Override
    OnnxModel apply(OnnxModel m) {
      return Fp16Rewrites.emulate(m, plan());
    }
  }
}
