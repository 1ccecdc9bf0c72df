package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * TensorRT folds constant subgraphs while parsing, so a build asked to observe such a tensor fails
 * naming it (seen on all-MiniLM-L6-v2: 36 Constant outputs). The prober drops the named tensors,
 * builds once more without them and reports them unobserved, instead of splitting the chunk down to
 * single tensors or failing the whole analysis.
 */
class FoldedTensorTest {
  private static final ModelGraph MODEL = model();
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(1);

  /** x * (2 * 1.5) * 3e5 / 3e5: a Constant and a tensor folded from it, then a planted overflow. */
  private static ModelGraph model() {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, TestModels.SEQ, TestModels.HIDDEN);
    String fill = t.constant("fill", 2f);
    String twice = t.node("Mul", "fill_scaled", fill, t.scalar(1.5f));
    String y = t.node("Mul", "scale", "x", twice);
    String up = t.node("Mul", "plant/up", y, t.scalar(3e5f));
    t.output(t.node("Div", "plant/down", up, t.scalar(3e5f)));
    return t.graph("folded");
  }

  private static List<String> constants() {
    return List.of("fill", "fill_scaled");
  }

  @Test
  void layerwiseSkipsTensorsBothSidesFolded() {
    InterpreterBackend b = new InterpreterBackend();
    b.folded(constants());
    assertThat(MODEL.constantTensors()).containsExactlyInAnyOrderElementsOf(constants());
    BisectContext ctx = TestModels.context(MODEL, b, SAMPLES).build();
    Layerwise.Result r = Layerwise.run(ctx);

    assertThat(r.unobserved()).containsOnlyKeys(constants());
    assertThat(r.unobserved().values())
        .allMatch(why -> why.equals("reference: " + Prober.REFERENCE_FOLDED));
    assertThat(r.tensors())
        .extracting(Layerwise.TensorReport::tensor)
        .doesNotContainAnyElementsOf(constants())
        .hasSize(MODEL.floatTensors().size() - constants().size());
    assertThat(r.firstFailing()).isPresent();
    // One failed reference build, one without the folded tensors; the candidate never asks for
    // them.
    assertThat(ctx.prober().referenceBuilds()).isEqualTo(2);
    assertThat(r.candidateBuilds()).isEqualTo(1);
  }

  @Test
  void candidateOnlyFoldingIsRetriedOnceAndReported() {
    InterpreterBackend reference = new InterpreterBackend();
    InterpreterBackend candidate = new InterpreterBackend();
    candidate.folded(constants());
    candidate.foldOnReference(false);
    BisectContext ctx =
        BisectContext.builder(
                MODEL,
                reference,
                BuildOptions.of("fp32"),
                candidate,
                BuildOptions.of("fp16-emulated"))
            .samples(SAMPLES)
            .build();
    Layerwise.Result r = Layerwise.run(ctx);
    assertThat(r.unobserved()).containsOnlyKeys(constants());
    assertThat(r.unobserved().values())
        .allMatch(why -> why.equals("candidate: " + Prober.CANDIDATE_FOLDED));
    assertThat(r.candidateBuilds()).isEqualTo(1); // the retry is the same probe
    assertThat(candidate.fp16Builds()).isEqualTo(2);

    // Constants are folded by TensorRT at parse time: amplification does not shadow them at all
    // (issue 15), so the backend's folding is never asked about.
    Amplification.Result a = Amplification.analyze(ctx);
    assertThat(a.unmeasured())
        .containsOnlyKeys(constants())
        .allSatisfy((n, why) -> assertThat(why).isEqualTo(Amplification.FOLDED_BY_TENSORRT));
    assertThat(a.node("fill").orElseThrow().method()).isEqualTo(Amplification.Method.NOT_MEASURED);
    assertThat(a.node("scale").orElseThrow().method()).isEqualTo(Amplification.Method.SHADOW);
    assertThat(a.ranking()).isNotEmpty();
    assertThat(a.node("plant/up").orElseThrow().localError()).isInfinite();
  }
}
