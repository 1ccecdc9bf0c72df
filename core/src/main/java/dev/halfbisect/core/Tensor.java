package dev.halfbisect.core;

import com.google.common.base.Preconditions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * An immutable n-dimensional array: shape, element type and little-endian C-order data. The bytes
 * are held once and only ever handed out read-only, so a tensor can be shared between threads,
 * backends and files without copies. {@link #toFloatArray()} is the float view used for comparison.
 */
public final class Tensor {
  private final DType dtype;
  private final long[] shape;
  private final ByteBuffer data; // read-only, little-endian, position 0

  private Tensor(DType dtype, long[] shape, ByteBuffer data) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
  }

  /**
   * A tensor over {@code bytes} (little-endian, C order). The buffer's remaining bytes are copied
   * unless it is already read-only, in which case it is shared.
   *
   * @throws IllegalArgumentException when the byte count does not match shape and dtype
   */
  public static Tensor ofBytes(DType dtype, long[] shape, ByteBuffer bytes) {
    Preconditions.checkNotNull(dtype, "dtype");
    long[] s = checkShape(shape);
    long expected = elementCount(s) * dtype.byteSize();
    Preconditions.checkArgument(
        bytes.remaining() == expected,
        "tensor of shape %s and dtype %s needs %s bytes, got %s",
        Arrays.toString(s),
        dtype.cliName(),
        expected,
        bytes.remaining());
    ByteBuffer view;
    if (bytes.isReadOnly()) {
      view = bytes.slice();
    } else {
      ByteBuffer copy = ByteBuffer.allocate(bytes.remaining());
      copy.put(bytes.duplicate());
      copy.flip();
      view = copy.asReadOnlyBuffer();
    }
    return new Tensor(dtype, s, view.order(ByteOrder.LITTLE_ENDIAN));
  }

  public static Tensor ofFloats(long[] shape, float... values) {
    return filled(DType.FLOAT32, shape, values.length, b -> b.asFloatBuffer().put(values));
  }

  public static Tensor ofDoubles(long[] shape, double... values) {
    return filled(DType.FLOAT64, shape, values.length, b -> b.asDoubleBuffer().put(values));
  }

  /** A float16 tensor from IEEE binary16 bit patterns (see {@link Half}). */
  public static Tensor ofHalfBits(long[] shape, short... bits) {
    return filled(DType.FLOAT16, shape, bits.length, b -> b.asShortBuffer().put(bits));
  }

  /** A bfloat16 tensor from its bit patterns. */
  public static Tensor ofBFloat16Bits(long[] shape, short... bits) {
    return filled(DType.BFLOAT16, shape, bits.length, b -> b.asShortBuffer().put(bits));
  }

  public static Tensor ofLongs(long[] shape, long... values) {
    return filled(DType.INT64, shape, values.length, b -> b.asLongBuffer().put(values));
  }

  public static Tensor ofInts(long[] shape, int... values) {
    return filled(DType.INT32, shape, values.length, b -> b.asIntBuffer().put(values));
  }

  /** An int8 or uint8 tensor (values taken as raw bytes). */
  public static Tensor ofBytes(DType dtype, long[] shape, byte... values) {
    Preconditions.checkArgument(
        dtype == DType.INT8 || dtype == DType.UINT8,
        "byte values make int8 or uint8 tensors, not %s",
        dtype.cliName());
    return filled(dtype, shape, values.length, b -> b.put(values));
  }

  public static Tensor ofBooleans(long[] shape, boolean... values) {
    return filled(
        DType.BOOL,
        shape,
        values.length,
        b -> {
          for (boolean v : values) {
            b.put((byte) (v ? 1 : 0));
          }
        });
  }

  /**
   * Converts float values to a tensor of the given dtype (rounding for float16/bfloat16, truncation
   * toward zero for integers, non-zero for bool). Used to build inputs of any dtype from one
   * source.
   */
  public static Tensor fromFloats(DType dtype, long[] shape, float[] values) {
    switch (dtype) {
      case FLOAT32:
        return ofFloats(shape, values);
      case FLOAT16:
        return ofHalfBits(shape, Half.fromFloats(values));
      case BFLOAT16:
        {
          short[] s = new short[values.length];
          for (int i = 0; i < s.length; i++) {
            s[i] = Half.bfloat16FromFloat(values[i]);
          }
          return ofBFloat16Bits(shape, s);
        }
      case FLOAT64:
        {
          double[] d = new double[values.length];
          for (int i = 0; i < d.length; i++) {
            d[i] = values[i];
          }
          return ofDoubles(shape, d);
        }
      case INT64:
        {
          long[] l = new long[values.length];
          for (int i = 0; i < l.length; i++) {
            l[i] = (long) values[i];
          }
          return ofLongs(shape, l);
        }
      case INT32:
        {
          int[] l = new int[values.length];
          for (int i = 0; i < l.length; i++) {
            l[i] = (int) values[i];
          }
          return ofInts(shape, l);
        }
      case INT8:
      case UINT8:
        {
          byte[] l = new byte[values.length];
          for (int i = 0; i < l.length; i++) {
            l[i] = (byte) (int) values[i];
          }
          return ofBytes(dtype, shape, l);
        }
      case BOOL:
        {
          boolean[] l = new boolean[values.length];
          for (int i = 0; i < l.length; i++) {
            l[i] = values[i] != 0f;
          }
          return ofBooleans(shape, l);
        }
      default:
        throw new AssertionError(dtype);
    }
  }

  public DType dtype() {
    return dtype;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int axis) {
    return shape[axis];
  }

  /** Number of elements (1 for a scalar). */
  public long size() {
    return elementCount(shape);
  }

  /** Number of elements as an int, for tensors that fit a Java array. */
  public int intSize() {
    long n = size();
    Preconditions.checkState(
        n <= Integer.MAX_VALUE - 8, "tensor of %s elements does not fit an array", n);
    return (int) n;
  }

  /** Read-only little-endian view of the data (a fresh view each call; position 0). */
  public ByteBuffer bytes() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The values as floats: exact for float16/bfloat16/int8/uint8/bool, rounded for float64 and for
   * integers beyond 2^24. Always a new array.
   */
  public float[] toFloatArray() {
    int n = intSize();
    float[] out = new float[n];
    ByteBuffer b = bytes();
    switch (dtype) {
      case FLOAT32:
        b.asFloatBuffer().get(out);
        break;
      case FLOAT16:
        for (int i = 0; i < n; i++) out[i] = Half.toFloat(b.getShort(2 * i));
        break;
      case BFLOAT16:
        for (int i = 0; i < n; i++) out[i] = Half.bfloat16ToFloat(b.getShort(2 * i));
        break;
      case FLOAT64:
        for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(8 * i);
        break;
      case INT64:
        for (int i = 0; i < n; i++) out[i] = (float) b.getLong(8 * i);
        break;
      case INT32:
        for (int i = 0; i < n; i++) out[i] = (float) b.getInt(4 * i);
        break;
      case INT8:
        for (int i = 0; i < n; i++) out[i] = b.get(i);
        break;
      case UINT8:
        for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff;
        break;
      case BOOL:
        for (int i = 0; i < n; i++) out[i] = b.get(i) != 0 ? 1f : 0f;
        break;
      default:
        throw new AssertionError(dtype);
    }
    return out;
  }

  /** The values of an int64/int32/int8/uint8/bool tensor as longs. */
  public long[] toLongArray() {
    int n = intSize();
    long[] out = new long[n];
    ByteBuffer b = bytes();
    switch (dtype) {
      case INT64:
        b.asLongBuffer().get(out);
        break;
      case INT32:
        for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i);
        break;
      case INT8:
      case BOOL:
        for (int i = 0; i < n; i++) out[i] = b.get(i);
        break;
      case UINT8:
        for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff;
        break;
      default:
        throw new IllegalStateException(
            "toLongArray needs an integer tensor, this one is " + dtype.cliName());
    }
    return out;
  }

  /** Raw binary16 bits of a float16 tensor. */
  public short[] toHalfBits() {
    Preconditions.checkState(
        dtype == DType.FLOAT16,
        "toHalfBits needs a float16 tensor, this one is %s",
        dtype.cliName());
    short[] out = new short[intSize()];
    bytes().asShortBuffer().get(out);
    return out;
  }

  /** {@code 1x128}-style shape text; {@code scalar} for rank 0. */
  public static String shapeToString(long[] shape) {
    if (shape.length == 0) {
      return "scalar";
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append('x');
      }
      sb.append(shape[i]);
    }
    return sb.toString();
  }

  /** Product of the dims; throws on negative dims or overflow. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) { // message built only on failure: this runs for every tensor made
        throw new IllegalArgumentException(
            "negative dimension " + d + " in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Tensor)) {
      return false;
    }
    Tensor t = (Tensor) o;
    return dtype == t.dtype && Arrays.equals(shape, t.shape) && bytes().equals(t.bytes());
  }

  @Override
  public int hashCode() {
    return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + bytes().hashCode();
  }

  @Override
  public String toString() {
    return "Tensor[" + dtype.cliName() + " " + shapeToString(shape) + "]";
  }

  private static long[] checkShape(long[] shape) {
    Preconditions.checkNotNull(shape, "shape");
    long[] s = shape.clone();
    elementCount(s);
    return s;
  }

  /** A tensor of {@code length} values of {@code dtype}, written by {@code fill} in C order. */
  private static Tensor filled(DType dtype, long[] shape, int length, Consumer<ByteBuffer> fill) {
    ByteBuffer b = allocate(shape, length, dtype);
    fill.accept(b);
    return wrap(dtype, shape, b);
  }

  private static ByteBuffer allocate(long[] shape, int length, DType dtype) {
    long n = elementCount(checkShape(shape));
    Preconditions.checkArgument(
        n == length,
        "shape %s holds %s elements, got %s values",
        Arrays.toString(shape),
        n,
        length);
    return ByteBuffer.allocate(Math.multiplyExact(length, dtype.byteSize()))
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  private static Tensor wrap(DType dtype, long[] shape, ByteBuffer filled) {
    ByteBuffer b = filled.duplicate();
    b.position(0).limit(filled.capacity());
    return new Tensor(dtype, shape.clone(), b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }
}
