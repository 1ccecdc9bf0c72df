package dev.halfbisect.cli;

import dev.halfbisect.core.LowPrecision;
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

    // issue 19: the low-precision type of the rewrite
    @Option(
        names = "--type",
        paramLabel = "fp16|bf16",
        description = "low-precision type: fp16 (default) or bf16")
    String type = "fp16";

    LowPrecision type() {
      switch (type.toLowerCase(java.util.Locale.ROOT)) {
        case "fp16":
          return LowPrecision.FP16;
        case "bf16":
          return LowPrecision.BF16;
        default:
          throw new UsageException("--type must be fp16 or bf16, given '" + type + "'");
      }
    }

    @Override
    java.util.List<Path> otherInputs() {
      return plan == null ? java.util.List.of() : java.util.List.of(plan);
    }

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
          "Rewrite the model to FP16 (or BF16 with --type bf16) under the plan (Casts at the "
              + "borders): the strongly typed TensorRT input (trtexec --stronglyTyped).")
  static final class Fp16 extends WithPlan {
    @Override
    OnnxModel apply(OnnxModel m) {
      return Fp16Rewrites.convert(m, plan(), type());
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
      return Fp16Rewrites.emulate(m, plan(), type());
    }
  }
}
