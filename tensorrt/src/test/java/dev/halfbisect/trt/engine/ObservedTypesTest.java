package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.trt.engine.ObservedTypes.Marked;
import dev.halfbisect.trt.engine.ObservedTypes.Mode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObservedTypesTest {
  private final List<Marked> marked =
      List.of(
          new Marked("ln_out", 3, true),
          new Marked("pad_out", 4, true),
          new Marked("pads", 5, false), // shape arithmetic: never retyped
          new Marked("pinned_out", 7, true));

  @Test
  void fp32KeepsEveryDeclaredType() {
    assertThat(ObservedTypes.halfTyped(Mode.FP32, marked, List.of())).isEmpty();
  }

  @Test
  void fp16TypesTheFloatTensorsOfLayersNotPinned() {
    assertThat(ObservedTypes.halfTyped(Mode.FP16, marked, List.of(7)))
        .containsExactly("ln_out", "pad_out");
    assertThat(ObservedTypes.halfTyped(Mode.FP16, marked, List.of()))
        .containsExactly("ln_out", "pad_out", "pinned_out");
  }

  @Test
  void theModeParsesAndABadValueNamesTheProperty() {
    assertThat(Mode.parse(null)).isEqualTo(Mode.FP32);
    assertThat(Mode.parse(" ")).isEqualTo(Mode.FP32);
    assertThat(Mode.parse("FP16")).isEqualTo(Mode.FP16);
    assertThat(Mode.parse("fp32")).isEqualTo(Mode.FP32);
    assertThatThrownBy(() -> Mode.parse("half"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("halfbisect.trt.observedAs must be fp32 or fp16, got 'half'");
  }
}
