package dev.halfbisect.examples;

import static dev.halfbisect.junit.HalfBisectAssertions.assertPassesInFp16;
import static dev.halfbisect.junit.HalfBisectAssertions.assertPlanPasses;

import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The test to copy into a project: all-MiniLM-L6-v2 must stay accurate in FP16 (here FP16 emulation
 * on ONNX Runtime; on a GPU machine use {@code trt:fp32} / {@code trt:fp16}), both as a whole and
 * with its LayerNorms kept in FP32 (the plan the deployment uses).
 */
class MiniLmFp16Test {
  @Test
  void miniLmPassesInFp16AndWithItsLayerNormsInFp32() {
    HalfBisect hb =
        HalfBisect.model(MiniLmExample.modelFile())
            .input("input_ids:1x128:int64:1000..21000")
            .input("attention_mask:1x128:int64:1")
            .input("token_type_ids:1x128:int64:0")
            .reference("ort:fp32")
            .candidate("ort:fp16-emulated");

    assertPassesInFp16(hb, Tolerance.fp16Default());

    PrecisionPlan plan =
        PrecisionPlan.fp16Except(
            hb.nodeNames().stream()
                .filter(n -> n.contains("/LayerNorm/"))
                .collect(Collectors.toList()));
    assertPlanPasses(hb, plan);
  }
}
