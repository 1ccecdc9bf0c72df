package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 15: FILL pins (first=V, last=V, @I=V) on the last axis. */
class PinnedFillTest {
  @Test
  void parsesPinsAndRoundTrips() {
    InputSpec s = InputSpec.parse("input_ids:2x8:int64:1000..21000,first=101,last=102,@3=7");
    assertThat(s.fill()).isEqualTo(new InputSpec.Uniform(1000, 21000));
    assertThat(s.pins())
        .containsExactly(
            new InputSpec.Pin(0, 101), new InputSpec.Pin(-1, 102), new InputSpec.Pin(3, 7));
    assertThat(s.toString()).isEqualTo("input_ids:2x8:int64:1000..21000,first=101,last=102,@3=7");
    assertThat(InputSpec.parse(s.toString())).isEqualTo(s);
    InputSpec n = InputSpec.parse("x:1x4:float32:normal(0,2),@-2=5.5");
    assertThat(n.fill()).isEqualTo(new InputSpec.Normal(0, 2));
    assertThat(n.pins()).containsExactly(new InputSpec.Pin(-2, 5.5));
  }

  @Test
  void pinsSetEveryRowAndLeaveTheOtherValuesAsDrawn() {
    InputSpec plain = InputSpec.parse("ids:2x6:int64:1000..21000");
    InputSpec pinned = InputSpec.parse("ids:2x6:int64:1000..21000,first=101,last=102");
    long[] a = InputGenerator.generate(plain, 3, 9).toLongArray();
    long[] b = InputGenerator.generate(pinned, 3, 9).toLongArray();
    for (int row = 0; row < 2; row++) {
      assertThat(b[row * 6]).isEqualTo(101);
      assertThat(b[row * 6 + 5]).isEqualTo(102);
      for (int i = 1; i < 5; i++) {
        assertThat(b[row * 6 + i]).isEqualTo(a[row * 6 + i]).isBetween(1000L, 20999L);
      }
    }
    Tensor f = InputGenerator.generate(InputSpec.parse("x:3:float16:-1..1,@1=2"), 0, 0);
    assertThat(f.dtype()).isEqualTo(DType.FLOAT16);
    assertThat(f.toFloatArray()[1]).isEqualTo(2f);
  }

  @Test
  void badPinsAreNamed() {
    assertThatThrownBy(() -> InputSpec.parse("ids:1x4:int64:0..9,first101"))
        .hasMessageContaining("pin 'first101' must be first=V, last=V or @I=V");
    assertThatThrownBy(() -> InputSpec.parse("ids:1x4:int64:0..9,@4=1"))
        .hasMessageContaining("pinned position 4 is outside its last axis of size 4");
    assertThatThrownBy(() -> InputSpec.parse("ids:scalar:int64:0..9,first=1"))
        .hasMessageContaining("rank >= 1");
    assertThatThrownBy(() -> InputSpec.parse("m:1x4:int8:0..9,last=300"))
        .hasMessageContaining("range of int8");
    assertThatThrownBy(
            () ->
                new InputSpec(
                    "x",
                    new long[] {2},
                    DType.INT64,
                    new InputSpec.Constant(0),
                    List.of(new InputSpec.Pin(-3, 1))))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
