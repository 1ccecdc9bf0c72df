package dev.halfbisect.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class TensorTest {

  @Test
  void floatFactoryKeepsShapeAndValues() {
    Tensor t = Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
    assertThat(t.dtype()).isEqualTo(DType.FLOAT32);
    assertThat(t.shape()).containsExactly(2, 3);
    assertThat(t.rank()).isEqualTo(2);
    assertThat(t.dim(1)).isEqualTo(3);
    assertThat(t.size()).isEqualTo(6);
    assertThat(t.intSize()).isEqualTo(6);
    assertThat(t.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(t.bytes().remaining()).isEqualTo(24);
    assertThat(t.bytes().order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(t.bytes().getFloat(4)).isEqualTo(2f);
    assertThat(t.toString()).isEqualTo("Tensor[float32 2x3]");
  }

  @Test
  void isImmutable() {
    long[] shape = {3};
    float[] values = {1, 2, 3};
    Tensor t = Tensor.ofFloats(shape, values);
    shape[0] = 99;
    values[0] = 99;
    t.shape()[0] = 42;
    t.toFloatArray()[1] = 42;
    assertThat(t.shape()).containsExactly(3);
    assertThat(t.toFloatArray()).containsExactly(1, 2, 3);
    assertThat(t.bytes().isReadOnly()).isTrue();
    assertThatThrownBy(() -> t.bytes().put(0, (byte) 1))
        .isInstanceOf(ReadOnlyBufferException.class);
    // moving one view's position does not move the next one
    ByteBuffer view = t.bytes();
    view.getFloat();
    assertThat(t.bytes().position()).isZero();
  }

  @Test
  void ofBytesCopiesWritableBuffersAndSharesReadOnlyOnes() {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(1f).putFloat(2f).flip();
    Tensor copied = Tensor.ofBytes(DType.FLOAT32, new long[] {2}, b);
    b.putFloat(0, 7f);
    assertThat(copied.toFloatArray()).containsExactly(1f, 2f);
    assertThat(b.position()).isZero(); // the caller's buffer is not consumed

    ByteBuffer ro = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    ro.putFloat(9f).putFloat(1f).putFloat(2f).flip();
    ro.position(4);
    Tensor shared = Tensor.ofBytes(DType.FLOAT32, new long[] {2}, ro.asReadOnlyBuffer());
    assertThat(shared.toFloatArray()).containsExactly(1f, 2f);

    assertThatThrownBy(() -> Tensor.ofBytes(DType.FLOAT32, new long[] {3}, ByteBuffer.allocate(8)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs 12 bytes, got 8");
  }

  @Test
  void everyDTypeFactoryReadsBack() {
    long[] s = {2};
    assertThat(Tensor.ofDoubles(s, 1.5, -2).toFloatArray()).containsExactly(1.5f, -2f);
    assertThat(Tensor.ofHalfBits(s, (short) 0x3c00, (short) 0xc000).toFloatArray())
        .containsExactly(1f, -2f);
    assertThat(Tensor.ofHalfBits(s, (short) 0x3c00, (short) 0xc000).toHalfBits())
        .containsExactly((short) 0x3c00, (short) 0xc000);
    assertThat(Tensor.ofBFloat16Bits(s, (short) 0x3f80, (short) 0xc000).toFloatArray())
        .containsExactly(1f, -2f);
    assertThat(Tensor.ofLongs(s, 1L << 40, -3).toLongArray()).containsExactly(1L << 40, -3);
    assertThat(Tensor.ofInts(s, 7, -8).toLongArray()).containsExactly(7, -8);
    assertThat(Tensor.ofBytes(DType.INT8, s, (byte) -1, (byte) 5).toFloatArray())
        .containsExactly(-1f, 5f);
    assertThat(Tensor.ofBytes(DType.UINT8, s, (byte) -1, (byte) 5).toLongArray())
        .containsExactly(255, 5);
    assertThat(Tensor.ofBooleans(s, true, false).toFloatArray()).containsExactly(1f, 0f);
    assertThat(Tensor.ofBooleans(s, true, false).toLongArray()).containsExactly(1, 0);
    assertThatThrownBy(() -> Tensor.ofBytes(DType.INT32, s, (byte) 1, (byte) 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("int32");
    assertThatThrownBy(() -> Tensor.ofFloats(s, 1f, 2f).toLongArray())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("float32");
    assertThatThrownBy(() -> Tensor.ofFloats(s, 1f, 2f).toHalfBits())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("float16");
  }

  @Test
  void fromFloatsConvertsToEachDType() {
    long[] s = {3};
    float[] v = {1.7f, -2.5f, 0f};
    assertThat(Tensor.fromFloats(DType.INT64, s, v).toLongArray()).containsExactly(1, -2, 0);
    assertThat(Tensor.fromFloats(DType.INT32, s, v).toLongArray()).containsExactly(1, -2, 0);
    assertThat(Tensor.fromFloats(DType.INT8, s, v).toLongArray()).containsExactly(1, -2, 0);
    assertThat(Tensor.fromFloats(DType.BOOL, s, v).toLongArray()).containsExactly(1, 1, 0);
    assertThat(Tensor.fromFloats(DType.FLOAT16, s, new float[] {0.1f, 65520f, 1f}).toFloatArray())
        .containsExactly(0.0999755859375f, Float.POSITIVE_INFINITY, 1f);
    assertThat(Tensor.fromFloats(DType.FLOAT64, s, v).bytes().getDouble(8)).isEqualTo(-2.5);
    assertThat(Tensor.fromFloats(DType.BFLOAT16, s, v).dtype()).isEqualTo(DType.BFLOAT16);
  }

  @Test
  void shapesAreChecked() {
    assertThatThrownBy(() -> Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4 elements, got 3");
    assertThatThrownBy(() -> Tensor.ofFloats(new long[] {-1}, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative dimension");
    assertThatThrownBy(() -> Tensor.elementCount(new long[] {1L << 40, 1L << 40}))
        .isInstanceOf(ArithmeticException.class);
    Tensor scalar = Tensor.ofFloats(new long[0], 5f);
    assertThat(scalar.size()).isEqualTo(1);
    assertThat(Tensor.shapeToString(scalar.shape())).isEqualTo("scalar");
    assertThat(Tensor.shapeToString(new long[] {1, 128})).isEqualTo("1x128");
    Tensor empty = Tensor.ofFloats(new long[] {0, 4});
    assertThat(empty.size()).isZero();
    assertThat(empty.toFloatArray()).isEmpty();
  }

  @Test
  void equalityIsByDTypeShapeAndBytes() {
    Tensor a = Tensor.ofFloats(new long[] {2}, 1, 2);
    assertThat(a)
        .isEqualTo(Tensor.ofFloats(new long[] {2}, 1, 2))
        .hasSameHashCodeAs(Tensor.ofFloats(new long[] {2}, 1, 2));
    assertThat(a).isNotEqualTo(Tensor.ofFloats(new long[] {1, 2}, 1, 2));
    assertThat(a).isNotEqualTo(Tensor.ofFloats(new long[] {2}, 1, 3));
    assertThat(Tensor.ofInts(new long[] {1}, 0)).isNotEqualTo(Tensor.ofFloats(new long[] {1}, 0));
  }
}
