package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.core.verdict.Tolerance;
import org.junit.jupiter.api.Test;

class AnalysisSettingsTest {
  @Test
  void copiesAreValuesAndLeaveTheOriginalAsItWas() {
    AnalysisSettings d = AnalysisSettings.defaults();
    assertThat(d.toBuilder().build()).isEqualTo(d);
    assertThat(d.samples()).isEqualTo(1);
    assertThat(d.tolerance()).isEqualTo(Tolerance.fp16Default());
    assertThat(d.reference()).isNull();

    AnalysisSettings three = d.with(b -> b.samples = 3);
    assertThat(three.samples()).isEqualTo(3);
    assertThat(d.samples()).isEqualTo(1);
    assertThat(three.with(b -> b.samples = 1)).isEqualTo(d);
  }

  @Test
  void aLaterInputSpecReplacesAnEarlierOneOfTheSameInput() {
    AnalysisSettings s =
        AnalysisSettings.defaults()
            .with(b -> b.inputSpec(InputSpec.parse("x:1x4:float32:0")))
            .with(b -> b.inputSpec(InputSpec.parse("y:1x4:float32:0")))
            .with(b -> b.inputSpec(InputSpec.parse("x:1x4:float32:1")));
    assertThat(s.inputSpecs())
        .extracting(InputSpec::toString)
        .containsExactly("y:1x4:float32:0", "x:1x4:float32:1");
  }

  @Test
  void buildChecksTheComponents() {
    assertThatThrownBy(() -> AnalysisSettings.defaults().with(b -> b.samples = 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("samples must be >= 1");
    assertThatThrownBy(() -> AnalysisSettings.defaults().with(b -> b.tolerance = null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("tolerance");
  }
}
