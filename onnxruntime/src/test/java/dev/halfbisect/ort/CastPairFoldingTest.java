package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which ONNX Runtime optimization levels keep a float -> float16 -> float Cast pair, the building
 * block of FP16 emulation: at every level the result must be rounded exactly as {@link Half} says.
 */
class CastPairFoldingTest {
  private final OrtBackend backend = new OrtBackend(0);

  @ParameterizedTest
  @ValueSource(strings = {"none", "basic", "extended", "layout", "all"})
  void castPairRoundsAtLevel(String level) throws Exception {
    int n = 4096;
    float[] x = new float[n];
    Random r = new Random(7);
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() * 40);
    }
    x[0] = 300f; // 90000 overflows float16
    // y is not observed: an optimizer is free to remove the pair if it considers it redundant.
    BuildOptions opts = BuildOptions.of("fp32").withProperty("ort.optLevel", level);
    try (BackendSession s = backend.open(ProtoModels.castPair(n), opts)) {
      float[] z = s.run(Map.of("x", Tensor.ofFloats(new long[] {n}, x))).get("z").toFloatArray();
      int rounded = 0;
      for (int i = 0; i < n; i++) {
        float expected = Half.round(x[i] * x[i]) + x[i];
        assertThat(z[i]).as("element %s at level %s", i, level).isEqualTo(expected);
        rounded += expected != x[i] * x[i] + x[i] ? 1 : 0;
      }
      assertThat(rounded).as("elements the float16 rounding changes").isGreaterThan(n / 2);
      assertThat(z[0]).isInfinite();
    }
  }
}
