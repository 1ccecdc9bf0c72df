package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.CastPlacedEmulation;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Issue 19: {@code ort:fp16-strong-emulated} runs the Cast-placed model strong typing builds, with
 * the same numbers as the storage emulation of the plan.
 */
class StrongEmulationBackendTest {
  private final OrtBackend backend = new OrtBackend();

  /** x -> a = x*300 -> b = a^2 (overflows FP16) -> c = b*1e-4 -> d = relu(c + x) -> y. */
  private static OnnxModel chain() {
    GraphBuilder g = GraphBuilder.create("chain", 13);
    String x = g.input("x", DType.FLOAT32, 1, 32);
    String a = g.op("Mul").in(x, g.scalar(DType.FLOAT32, 300f)).name("a").add1();
    String b = g.op("Pow").in(a, g.scalar(DType.FLOAT32, 2f)).name("b").add1();
    String c = g.op("Mul").in(b, g.scalar(DType.FLOAT32, 1e-4f)).name("c").add1();
    String d = g.op("Relu").in(g.op("Add").in(c, x).name("cx").add1()).name("d").add1();
    g.output(d);
    return g.build();
  }

  private static Tensor input() {
    Random r = new Random(1);
    float[] v = new float[32];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return Tensor.ofFloats(new long[] {1, 32}, v);
  }

  /** The output of node {@code observedNode} (or the graph output when empty). */
  private float[] run(OnnxModel m, String mode, PrecisionPlan plan, List<String> observedNode)
      throws Exception {
    List<String> observed = observedNode.stream().map(n -> m.index().node(n).getOutput(0)).toList();
    try (BackendSession s =
        backend.open(m.toModelRef(), BuildOptions.of(mode, plan).withObserved(observed))) {
      var r = s.run(Map.of("x", input()));
      return r.get(observed.isEmpty() ? m.graph().getOutput(0).getName() : observed.get(0))
          .toFloatArray();
    }
  }

  @Test
  void strongEmulationMatchesStorageEmulationBitForBit() throws Exception {
    OnnxModel m = chain();
    for (PrecisionPlan plan :
        List.of(
            PrecisionPlan.allFp16(),
            PrecisionPlan.fp16Except(List.of("b", "c")),
            PrecisionPlan.fp16Except(List.of("a")))) {
      for (List<String> observed : List.of(List.<String>of(), List.of("b"), List.of("cx"))) {
        float[] weak = run(m, "fp16-emulated", plan, observed);
        float[] strong = run(m, "fp16-strong-emulated", plan, observed);
        assertThat(strong).as("%s observing %s", plan.fp32Nodes(), observed).containsExactly(weak);
        assertThat(run(m, "bf16-strong-emulated", plan, observed))
            .containsExactly(run(m, "bf16-emulated", plan, observed));
      }
    }
    // the overflow is there in strong emulation (a plain ORT run of the Cast-placed model, whose
    // CPU kernels compute FP16 ops in FP32, would hide it) and the plan removes it
    assertThat(run(m, "fp16-strong-emulated", PrecisionPlan.allFp16(), List.of("b")))
        .contains(Float.POSITIVE_INFINITY);
    assertThat(
            run(m, "fp16-strong-emulated", PrecisionPlan.fp16Except(List.of("b", "c")), List.of()))
        .doesNotContain(Float.POSITIVE_INFINITY, Float.NaN);
  }

  @Test
  void castPlacedModelBecomesFloat32WithRoundingCastPairs() {
    OnnxModel converted =
        Fp16Conversion.apply(chain(), PrecisionPlan.fp16Except(List.of("b"))).model();
    OnnxModel emu = CastPlacedEmulation.apply(converted, LowPrecision.FP16);
    for (Onnx.TensorProto t : emu.graph().getInitializerList()) {
      assertThat(t.getDataType()).as(t.getName()).isEqualTo(DType.FLOAT32.onnxCode());
    }
    for (Onnx.NodeProto n : emu.graph().getNodeList()) {
      if (n.getOpType().equals("Cast") && n.getAttribute(0).getI() == 10) {
        // every cast to FP16 is followed by one back: a rounding pair
        String mid = n.getOutput(0);
        assertThat(emu.graph().getNodeList())
            .anySatisfy(
                k -> {
                  assertThat(k.getOpType()).isEqualTo("Cast");
                  assertThat(k.getInput(0)).isEqualTo(mid);
                  assertThat(k.getAttribute(0).getI()).isEqualTo(1);
                });
      }
    }
    assertThat(emu.graph().getNodeList()).anyMatch(n -> n.getName().equals("b"));
  }
}
