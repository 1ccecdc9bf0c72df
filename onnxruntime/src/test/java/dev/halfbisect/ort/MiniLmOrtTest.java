package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.RunResult;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The real all-MiniLM-L6-v2 through the ort backend: reference run and session reuse. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MiniLmOrtTest {
  private final OrtBackend backend = new OrtBackend();
  private final Map<String, Tensor> sample = MiniLm.tokens(1, 128, 2024);
  private BackendSession fp32;
  private RunResult reference;

  @BeforeAll
  void buildReference() throws Exception {
    fp32 = backend.open(MiniLm.model(), BuildOptions.of("fp32").withProperty("ort.threads", "2"));
    reference = fp32.run(sample);
  }

  @AfterAll
  void close() {
    fp32.close();
    backend.clearCache();
  }

  @Test
  void referenceDescribesInputsAndGivesFiniteEmbeddings() {
    assertThat(fp32.inputs()).extracting(i -> i.describe())
        .containsExactlyInAnyOrder("input_ids int64 [?x?]", "attention_mask int64 [?x?]", "token_type_ids int64 [?x?]");
    String out = fp32.outputNames().get(0);
    Tensor t = reference.get(out);
    assertThat(t.shape()).containsExactly(1, 128, 384);
    float[] v = t.toFloatArray();
    double norm = 0;
    for (float f : v) {
      assertThat(f).isFinite();
      norm += f * f;
    }
    assertThat(norm).isGreaterThan(1.0);
  }

  @Test
  void openingTheSameModelAndOptionsAgainBuildsOnce() throws Exception {
    try (BackendSession again = backend.open(MiniLm.model(), BuildOptions.of("fp32").withProperty("ort.threads", "2"))) {
      assertThat(fp32.buildStats().cached()).isFalse();
      assertThat(fp32.buildStats().buildTime()).isPositive();
      assertThat(again.buildStats().cached()).isTrue();
      String out = fp32.outputNames().get(0);
      assertThat(again.run(sample).get(out)).isEqualTo(reference.get(out));
    }
  }
}
