package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReferenceScopeTest {
  private static final ModelGraph MODEL = TestModels.transformer(2, -1);

  @Test
  void aScopeHoldsItsValuesUntilItClosesAndScopesDoNotNest() {
    BisectContext ctx =
        TestModels.context(MODEL, new InterpreterBackend(), TestModels.transformerSamples(2))
            .referenceCacheBytes(0)
            .build();
    Prober p = ctx.prober();
    List<String> chunk = MODEL.floatTensors().subList(0, 3);
    String t = chunk.get(1);
    try (ReferenceScope scope = p.openScope(chunk)) {
      assertThat(p.referenceBuilds()).isEqualTo(1);
      assertThat(scope.reference(List.of(t)))
          .hasSize(2)
          .allSatisfy(m -> assertThat(m).containsKey(t));
      // Probes inside the scope read its values: no second reference build.
      assertThat(p.reference(List.of(t)).get(1)).containsKey(t);
      assertThat(p.referenceBuilds()).isEqualTo(1);
      assertThatThrownBy(() -> p.openScope(chunk))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already open");
    }
    // No cache budget: the values went with the scope, so asking again runs the reference again.
    assertThat(p.reference(List.of(t)).get(0)).containsKey(t);
    assertThat(p.referenceBuilds()).isEqualTo(2);

    ReferenceScope again = p.openScope(chunk);
    again.close();
    again.close(); // closing twice is harmless, and the prober takes a new scope
    p.openScope(chunk).close();
  }

  @Test
  void closingMovesWhatFitsTheCacheBudgetIntoTheSharedCache() {
    long oneTensor = 2L * 4 * TestModels.SEQ * TestModels.HIDDEN; // two samples of [1, SEQ, HIDDEN]
    BisectContext ctx =
        TestModels.context(MODEL, new InterpreterBackend(), TestModels.transformerSamples(2))
            .referenceCacheBytes(oneTensor)
            .build();
    Prober p = ctx.prober();
    List<String> chunk =
        MODEL.floatTensors().stream()
            .filter(x -> MODEL.elementCount(x).orElse(0) == TestModels.SEQ * TestModels.HIDDEN)
            .limit(2)
            .toList();
    assertThat(chunk).hasSize(2);
    try (ReferenceScope scope = p.openScope(chunk)) {
      assertThat(scope.reference(chunk).get(0)).containsOnlyKeys(chunk);
    }
    p.reference(chunk.subList(0, 1));
    assertThat(p.referenceBuilds()).as("the first tensor fit the budget").isEqualTo(1);
    p.reference(chunk.subList(1, 2));
    assertThat(p.referenceBuilds()).as("the second did not").isEqualTo(2);
  }
}
