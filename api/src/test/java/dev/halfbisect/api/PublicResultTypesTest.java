package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The api's result types name no engine type in a public signature (issue 17). */
class PublicResultTypesTest {
  @Test
  void publicResultMethodsUseApiTypesOnly() {
    List<String> leaks = new ArrayList<>();
    for (Class<?> c :
        List.of(
            AnalysisResult.class,
            CompareResult.class,
            LayerwiseResult.class,
            BisectResult.class,
            AmplifyResult.class,
            PrecisionResult.class,
            ReduceResult.class,
            DiagnosisResult.class,
            TensorResult.class,
            Divergence.class,
            NodeAmplification.class)) {
      for (Method m : c.getDeclaredMethods()) {
        if (!Modifier.isPublic(m.getModifiers())) {
          continue;
        }
        String sig = m.toGenericString();
        if (sig.contains("dev.halfbisect.bisect.")) {
          leaks.add(sig);
        }
      }
    }
    assertThat(leaks).isEmpty();
  }
}
