package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.DType;
import org.junit.jupiter.api.Test;

class InputSpecTest {

  @Test
  void parsesTheDesignExamples() {
    InputSpec ids = InputSpec.parse("input_ids:1x128:int64:1000..21000");
    assertThat(ids.name()).isEqualTo("input_ids");
    assertThat(ids.shape()).containsExactly(1, 128);
    assertThat(ids.dtype()).isEqualTo(DType.INT64);
    assertThat(ids.fill()).isEqualTo(new InputSpec.Uniform(1000, 21000));
    assertThat(ids.toString()).isEqualTo("input_ids:1x128:int64:1000..21000");

    InputSpec mask = InputSpec.parse("attention_mask:1x128:int64:1");
    assertThat(mask.fill()).isEqualTo(new InputSpec.Constant(1));

    InputSpec x = InputSpec.parse("x:2x3x4:float32:-0.5..1.5");
    assertThat(x.fill()).isEqualTo(new InputSpec.Uniform(-0.5, 1.5));
    assertThat(InputSpec.parse("x:8:fp16:normal(0, 2.5)").fill())
        .isEqualTo(new InputSpec.Normal(0, 2.5));
    assertThat(InputSpec.parse("s:scalar:float64:3.25").shape()).isEmpty();
    assertThat(InputSpec.parse("flag:4:bool:0..2").fill()).isEqualTo(new InputSpec.Uniform(0, 2));
    // names may hold colons (TensorFlow-style "input:0")
    InputSpec tf = InputSpec.parse("input:0:1x3:float32:0");
    assertThat(tf.name()).isEqualTo("input:0");
    assertThat(InputSpec.parse(tf.toString())).isEqualTo(tf);
  }

  @Test
  void badPartsAreNamed() {
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:float32"))
        .hasMessageContaining("NAME:SHAPE:DTYPE:FILL");
    assertThatThrownBy(() -> InputSpec.parse(":1x2:float32:0"))
        .hasMessageContaining("NAME:SHAPE:DTYPE:FILL");
    assertThatThrownBy(() -> InputSpec.parse("x:1xa:float32:0"))
        .hasMessageContaining("shape '1xa'")
        .hasMessageContaining("'a' is not a dimension");
    assertThatThrownBy(() -> InputSpec.parse("x:1x-2:float32:0"))
        .hasMessageContaining("shape '1x-2'");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:float33:0"))
        .hasMessageContaining("unknown dtype 'float33'");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:int64:0.5..3"))
        .hasMessageContaining("'0.5' is not an integer");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:float32:5..1")).hasMessageContaining("LO < HI");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:float32:abc"))
        .hasMessageContaining("fill 'abc'");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:int32:normal(0,1)"))
        .hasMessageContaining("float dtypes");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:float32:normal(0,-1)"))
        .hasMessageContaining("STD >= 0");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:int8:0..300"))
        .hasMessageContaining("range of int8");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:uint8:-1"))
        .hasMessageContaining("range of uint8");
    assertThatThrownBy(() -> InputSpec.parse("x:100000x100000:float32:0"))
        .hasMessageContaining("more than an array holds");
    assertThatThrownBy(() -> InputSpec.parse("x:1x2:float32:nan"))
        .hasMessageContaining("finite number");
  }
}
