package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Chunking observed tensors by an estimated byte budget, with a cap, and the builds it saves. */
class ObservationChunksTest {
  /** A chain of {@code n} Neg nodes on x [1, width]; a negative width is a symbolic dimension. */
  static ModelGraph chain(int n, long width) {
    TinyGraph t = new TinyGraph();
    t.input("x", 1, width);
    String h = "x";
    for (int i = 0; i < n; i++) {
      h = t.node("Neg", "n" + i, h);
    }
    t.output(h);
    return t.graph("chain" + n);
  }

  static Map<String, Tensor> input(int width) {
    return TestModels.sample(3, 1f, 2f, "x", 1, width);
  }

  @Test
  void tensorSizesComeFromStaticShapesTimesSamples() {
    ModelGraph g = chain(3, 1000);
    ObservationChunks c = ObservationChunks.of(g, 1 << 20, 100, 10, 2);
    assertThat(c.tensorBytes(g.floatTensors().get(0))).isEqualTo(1000L * 4 * 2);
    assertThat(c.nodeOutputBytes("n1")).isEqualTo(1000L * 4 * 2);
  }

  @Test
  void bigStaticTensorsAreSplitAndSmallOnesPacked() {
    ModelGraph g = chain(10, 1000); // 4,000 bytes per tensor, one sample
    List<String> tensors = g.floatTensors();
    // 10,000 bytes hold two tensors: five chunks, in order.
    List<List<String>> two = ObservationChunks.of(g, 10_000, 100, 1, 1).tensors(tensors);
    assertThat(two).hasSize(5).allSatisfy(chunk -> assertThat(chunk).hasSize(2));
    assertThat(two.stream().flatMap(List::stream).toList()).isEqualTo(tensors);
    // A budget below one tensor: each tensor alone, none dropped.
    assertThat(ObservationChunks.of(g, 100, 100, 1, 1).tensors(tensors))
        .hasSize(10)
        .allSatisfy(chunk -> assertThat(chunk).hasSize(1));
    // A budget for all: one chunk, although the count per unknown-size tensor would be 1.
    assertThat(ObservationChunks.of(g, 40_000, 100, 1, 1).tensors(tensors))
        .containsExactly(tensors);
    // Two samples hold twice the bytes.
    assertThat(ObservationChunks.of(g, 40_000, 100, 1, 2).tensors(tensors)).hasSize(2);
  }

  @Test
  void theCapBoundsTensorsPerBuildWhateverTheirSize() {
    ModelGraph g = chain(10, 4);
    List<List<String>> chunks =
        ObservationChunks.of(g, 1L << 30, 3, 1, 1).tensors(g.floatTensors());
    assertThat(chunks).extracting(List::size).containsExactly(3, 3, 3, 1);
    assertThat(ObservationChunks.of(g, 1L << 30, 3, 1, 1).nodes(List.of("n0", "n1", "n2", "n3")))
        .extracting(List::size)
        .containsExactly(3, 1);
  }

  @Test
  void unknownSizesFallBackToTheChunkSize() {
    ModelGraph g = chain(10, -1); // [1, dyn]: no static size
    assertThat(g.elementCount(g.floatTensors().get(0))).isEmpty();
    ObservationChunks c = ObservationChunks.of(g, 1 << 20, 100, 4, 1);
    assertThat(c.tensorBytes(g.floatTensors().get(0))).isEqualTo((1 << 20) / 4);
    assertThat(c.tensors(g.floatTensors())).extracting(List::size).containsExactly(4, 4, 2);
    // The shadow of unknown-size nodes stays one build (split only on failure), up to the cap.
    assertThat(c.nodes(g.floatNodes())).hasSize(1);
  }

  @Test
  void contextValidatesTheBudgetAndTheCap() {
    BisectContext.Builder b =
        TestModels.context(chain(2, 4), new InterpreterBackend(), List.of(input(4)));
    assertThatThrownBy(() -> b.chunkBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("chunk byte budget must be >= 1 byte, got 0");
    assertThatThrownBy(() -> b.maxChunkTensors(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max tensors per build must be >= 1, got 0");
    BisectContext ctx = b.build();
    assertThat(ctx.budget().chunkBytes()).isEqualTo(BisectContext.DEFAULT_CHUNK_BYTES);
    assertThat(ctx.budget().maxChunkTensors()).isEqualTo(BisectContext.DEFAULT_MAX_CHUNK_TENSORS);
  }

  @Test
  void layerwiseOnALongChainOfSmallTensorsNeedsOneBuildPerSide() {
    int n = 600; // more than twice the old 256-tensor chunk
    InterpreterBackend b = new InterpreterBackend();
    BisectContext ctx = TestModels.context(chain(n, 16), b, List.of(input(16))).build();
    Layerwise.Result r = Layerwise.run(ctx);
    assertThat(r.tensors()).hasSize(n);
    assertThat(r.candidateBuilds()).isEqualTo(1);
    assertThat(ctx.prober().referenceBuilds()).isEqualTo(1);
    assertThat(b.fp16Builds()).isEqualTo(1);

    // The same chain with a symbolic width, samples of different widths: no size is known, so it
    // is chunked by count, as before the byte budget.
    InterpreterBackend s = new InterpreterBackend();
    BisectContext symbolic =
        TestModels.context(chain(n, -1), s, List.of(input(16), input(8))).build();
    Layerwise.Result rs = Layerwise.run(symbolic);
    int chunks = (n + BisectContext.DEFAULT_CHUNK_SIZE - 1) / BisectContext.DEFAULT_CHUNK_SIZE;
    assertThat(rs.candidateBuilds()).isEqualTo(chunks);
    assertThat(symbolic.prober().referenceBuilds()).isEqualTo(chunks);
    assertThat(rs.tensors()).hasSize(n);
  }

  @Test
  void symbolicInputsAreSpecialisedWithTheSamplesShapes() {
    int n = 600;
    ModelGraph g = chain(n, -1);
    BisectContext ctx =
        TestModels.context(g, new InterpreterBackend(), List.of(input(16), input(16))).build();
    // [1, dyn] declared, [1, 16] in both samples: 16 floats x 4 bytes x 2 samples.
    assertThat(ctx.chunks().tensorBytes(g.floatTensors().get(n / 2))).isEqualTo(16L * 4 * 2);
    Layerwise.Result r = Layerwise.run(ctx);
    assertThat(r.candidateBuilds()).isEqualTo(1);
    assertThat(ctx.prober().referenceBuilds()).isEqualTo(1);
    assertThat(r.tensors()).hasSize(n);
  }

  @Test
  void amplificationOnALongChainOfSmallTensorsNeedsOneNormalAndOneShadowBuild() {
    int n = 600;
    InterpreterBackend b = new InterpreterBackend();
    BisectContext ctx = TestModels.context(chain(n, 16), b, List.of(input(16))).build();
    Amplification.Result r = Amplification.analyze(ctx);
    assertThat(r.nodes()).hasSize(n);
    assertThat(r.shadowBuilds()).isEqualTo(1);
    assertThat(r.candidateBuilds()).isEqualTo(2);
    assertThat(ctx.prober().referenceBuilds()).isEqualTo(1);
    assertThat(r.unmeasured()).isEmpty();
  }

  @Test
  void aTightBudgetSplitsTheShadowToo() {
    int n = 40;
    InterpreterBackend b = new InterpreterBackend();
    // 16 floats x 4 bytes = 64 bytes per tensor; 640 bytes hold ten.
    BisectContext ctx =
        TestModels.context(chain(n, 16), b, List.of(input(16))).chunkBytes(640).build();
    Amplification.Result r = Amplification.analyze(ctx);
    assertThat(r.shadowBuilds()).isEqualTo(4);
    assertThat(r.candidateBuilds()).isEqualTo(8);
    assertThat(ctx.prober().referenceBuilds()).isEqualTo(4);
    assertThat(r.nodes())
        .allSatisfy(node -> assertThat(node.method()).isEqualTo(Amplification.Method.SHADOW));
  }
}
