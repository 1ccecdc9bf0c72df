package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import com.google.protobuf.ByteString;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.DoubleConsumer;
import javax.annotation.Nullable;

/**
 * Converts ONNX {@code TensorProto}s (initializers, Constant values) to core {@link Tensor}s and
 * back. Reads every storage ONNX allows: {@code raw_data}, the typed fields ({@code float_data},
 * {@code int32_data} which also carries float16/bfloat16 bits, bool and 8/16-bit integers, {@code
 * int64_data}, {@code double_data}, {@code uint64_data}) and external data (memory-mapped, see
 * {@link OnnxModel}). The byte count is always checked against the declared shape before anything
 * is allocated, so a tensor that claims 10^12 elements with a short payload is an error, not an
 * out-of-memory.
 */
public final class TensorData {
  private TensorData() {}

  /**
   * The tensor's values as a core {@link Tensor}. External data is mapped read-only and shared, not
   * copied.
   *
   * @param baseDir folder external data is resolved against; may be null when there is none
   * @throws MalformedModelException when the type is not one core handles or the data does not
   *     match the shape
   * @throws ExternalDataException when an external reference is unusable
   */
  public static Tensor toTensor(Onnx.TensorProto t, @Nullable Path baseDir) {
    Preconditions.checkNotNull(t, "tensor");
    DType dtype = DType.fromOnnxCode(t.getDataType());
    if (dtype == null) {
      throw new MalformedModelException(
          "tensor '"
              + t.getName()
              + "' has element type "
              + ElementTypes.name(t.getDataType())
              + ", which halfbisect cannot convert to a Tensor");
    }
    long[] shape = dims(t);
    ByteBuffer bytes = rawBytes(t, baseDir);
    return Tensor.ofBytes(dtype, shape, bytes.isReadOnly() ? bytes : bytes.asReadOnlyBuffer());
  }

  /** An initializer named {@code name} holding {@code t} in {@code raw_data}. */
  public static Onnx.TensorProto fromTensor(String name, Tensor t) {
    Preconditions.checkNotNull(name, "name");
    Preconditions.checkNotNull(t, "tensor");
    Onnx.TensorProto.Builder b =
        Onnx.TensorProto.newBuilder().setName(name).setDataType(t.dtype().onnxCode());
    for (long d : t.shape()) {
      b.addDims(d);
    }
    return b.setRawData(ByteString.copyFrom(t.bytes())).build();
  }

  /** The declared dims; negative dims are malformed. */
  static long[] dims(Onnx.TensorProto t) {
    long[] shape = new long[t.getDimsCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.getDims(i);
      if (shape[i] < 0) {
        throw new MalformedModelException(
            "tensor '"
                + t.getName()
                + "' has negative dimension "
                + shape[i]
                + " in dims "
                + t.getDimsList());
      }
    }
    return shape;
  }

  /** Number of elements the dims declare (1 for a scalar). */
  static long elementCount(Onnx.TensorProto t) {
    long n = 1;
    for (long d : dims(t)) {
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new MalformedModelException(
            "tensor '"
                + t.getName()
                + "' dims "
                + t.getDimsList()
                + " overflow a 64-bit element count");
      }
    }
    return n;
  }

  /**
   * Bytes the payload takes in {@code raw_data} form, from the declared shape and type; -1 for
   * types without a fixed-size encoding (strings).
   */
  static long payloadBytes(Onnx.TensorProto t) {
    int type = t.getDataType();
    long n = elementCount(t);
    if (ElementTypes.isPackedNibble(type)) {
      return (n + 1) / 2;
    }
    int size = ElementTypes.byteSize(type);
    if (size <= 0) {
      return -1;
    }
    try {
      return Math.multiplyExact(n, size);
    } catch (ArithmeticException e) {
      throw new MalformedModelException(
          "tensor '" + t.getName() + "' of " + n + " elements is too large");
    }
  }

  /**
   * The payload as little-endian bytes in {@code raw_data} layout (read-only when it aliases the
   * proto or a file map). Works for every fixed-size type, including ones core has no DType for.
   */
  static ByteBuffer rawBytes(Onnx.TensorProto t, @Nullable Path baseDir) {
    String name = t.getName();
    long expected = payloadBytes(t);
    if (expected < 0) {
      throw new MalformedModelException(
          "tensor '"
              + name
              + "' has element type "
              + ElementTypes.name(t.getDataType())
              + ", which has no fixed-size binary form");
    }
    if (ExternalDataRef.isExternal(t)) {
      ExternalDataRef ref = ExternalDataRef.resolve(t, baseDir);
      checkSize(
          name,
          "external data '" + ref.location() + "'",
          expected,
          ref.length(),
          ref.length() > expected);
      checkFitsBuffer(name, expected);
      return ref.map(0, expected).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
    if (t.hasRawData()) {
      ByteString raw = t.getRawData();
      checkSize(name, "raw_data", expected, raw.size(), false);
      return raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
    checkFitsBuffer(name, expected);
    return typedFieldBytes(t, expected);
  }

  private static void checkSize(
      String name, String where, long expected, long actual, boolean longerIsOk) {
    if (actual != expected && !(longerIsOk && actual > expected)) {
      throw new MalformedModelException(
          "tensor '"
              + name
              + "' declares "
              + expected
              + " bytes of data but its "
              + where
              + " holds "
              + actual
              + " bytes");
    }
  }

  private static void checkFitsBuffer(String name, long bytes) {
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new MalformedModelException(
          "tensor '"
              + name
              + "' holds "
              + bytes
              + " bytes, more than one in-memory buffer can take (2 GB); read it in pieces");
    }
  }

  private static ByteBuffer typedFieldBytes(Onnx.TensorProto t, long expected) {
    int type = t.getDataType();
    long n = elementCount(t);
    switch (type) {
      case 1: // FLOAT
      case 14: // COMPLEX64: interleaved real, imaginary
        return fromField(
            t,
            "float_data",
            type == 14 ? 2 * n : n,
            t.getFloatDataCount(),
            expected,
            (out, i) -> out.putFloat(t.getFloatData(i)));
      case 11: // DOUBLE
      case 15: // COMPLEX128
        return fromField(
            t,
            "double_data",
            type == 15 ? 2 * n : n,
            t.getDoubleDataCount(),
            expected,
            (out, i) -> out.putDouble(t.getDoubleData(i)));
      case 7: // INT64
        return fromField(
            t,
            "int64_data",
            n,
            t.getInt64DataCount(),
            expected,
            (out, i) -> out.putLong(t.getInt64Data(i)));
      case 12: // UINT32
      case 13: // UINT64
        int width = ElementTypes.byteSize(type);
        return fromField(
            t,
            "uint64_data",
            n,
            t.getUint64DataCount(),
            expected,
            (out, i) -> putInteger(out, t.getUint64Data(i), width));
      case 6: // INT32
      case 4:
      case 5:
      case 10:
      case 16: // UINT16, INT16, FLOAT16 bits, BFLOAT16 bits
      case 2:
      case 3:
      case 9:
      case 17:
      case 18:
      case 19:
      case 20: // 8-bit types and bool
      case 21:
      case 22:
      case 23: // 4-bit types: two per int32_data entry's low byte, one entry per byte
        boolean packed = ElementTypes.isPackedNibble(type);
        int bytes = packed ? 1 : ElementTypes.byteSize(type);
        return fromField(
            t,
            "int32_data",
            packed ? expected : n,
            t.getInt32DataCount(),
            expected,
            (out, i) -> putInteger(out, t.getInt32Data(i), bytes));
      default:
        throw new MalformedModelException(
            "tensor '"
                + t.getName()
                + "' has element type "
                + ElementTypes.name(type)
                + ", which has no fixed-size binary form");
    }
  }

  /** The low {@code bytes} bytes of {@code v}. */
  private static void putInteger(ByteBuffer out, long v, int bytes) {
    switch (bytes) {
      case 1:
        out.put((byte) v);
        break;
      case 2:
        out.putShort((short) v);
        break;
      case 4:
        out.putInt((int) v);
        break;
      default:
        out.putLong(v);
        break;
    }
  }

  /** Writes entry {@code i} of a typed data field as little-endian bytes. */
  private interface FieldEntry {
    void put(ByteBuffer out, int i);
  }

  /**
   * The {@code bytes} little-endian bytes of a typed data field holding {@code held} entries, after
   * checking it holds the {@code entries} the tensor declares.
   */
  private static ByteBuffer fromField(
      Onnx.TensorProto t, String field, long entries, int held, long bytes, FieldEntry entry) {
    checkCount(t.getName(), field, entries, held);
    ByteBuffer out = allocate(bytes);
    for (int i = 0; i < entries; i++) {
      entry.put(out, i);
    }
    out.flip();
    return out.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void checkCount(String name, String field, long expected, int actual) {
    if (expected != actual) {
      throw new MalformedModelException(
          "tensor '"
              + name
              + "' declares "
              + expected
              + " values but its "
              + field
              + " holds "
              + actual);
    }
  }

  private static ByteBuffer allocate(long bytes) {
    return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Streams every value of a float32/float16/bfloat16/float64 tensor to {@code sink} without
   * building the whole array; external data is mapped one piece (at most 1 GiB) at a time, so
   * tensors larger than the heap or 2 GB can be scanned.
   */
  static void scanFloats(Onnx.TensorProto t, @Nullable Path baseDir, DoubleConsumer sink) {
    int type = t.getDataType();
    int size = ElementTypes.byteSize(type);
    Preconditions.checkArgument(
        ElementTypes.isFloat(type), "tensor '%s' is not a float tensor", t.getName());
    long expected = payloadBytes(t);
    if (ExternalDataRef.isExternal(t)) {
      ExternalDataRef ref = ExternalDataRef.resolve(t, baseDir);
      checkSize(
          t.getName(),
          "external data '" + ref.location() + "'",
          expected,
          ref.length(),
          ref.length() > expected);
      long chunk = ExternalDataRef.MAX_MAP_BYTES / size * size;
      for (long from = 0; from < expected; from += chunk) {
        scanBuffer(type, ref.map(from, Math.min(chunk, expected - from)), sink);
      }
      return;
    }
    if (!t.hasRawData()) {
      // Typed fields: read them directly, the values are already on the heap.
      String name = t.getName();
      long n = elementCount(t);
      if (type == 1) {
        checkCount(name, "float_data", n, t.getFloatDataCount());
        for (int i = 0; i < n; i++) {
          sink.accept(t.getFloatData(i));
        }
      } else if (type == 11) {
        checkCount(name, "double_data", n, t.getDoubleDataCount());
        for (int i = 0; i < n; i++) {
          sink.accept(t.getDoubleData(i));
        }
      } else {
        checkCount(name, "int32_data", n, t.getInt32DataCount());
        for (int i = 0; i < n; i++) {
          short bits = (short) t.getInt32Data(i);
          sink.accept(type == 10 ? Half.toFloat(bits) : Half.bfloat16ToFloat(bits));
        }
      }
      return;
    }
    ByteString raw = t.getRawData();
    checkSize(t.getName(), "raw_data", expected, raw.size(), false);
    scanBuffer(type, raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN), sink);
  }

  private static void scanBuffer(int type, ByteBuffer b, DoubleConsumer sink) {
    ByteBuffer buf = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    switch (type) {
      case 1:
        while (buf.remaining() >= 4) {
          sink.accept(buf.getFloat());
        }
        break;
      case 11:
        while (buf.remaining() >= 8) {
          sink.accept(buf.getDouble());
        }
        break;
      case 10:
        while (buf.remaining() >= 2) {
          sink.accept(Half.toFloat(buf.getShort()));
        }
        break;
      case 16:
        while (buf.remaining() >= 2) {
          sink.accept(Half.bfloat16ToFloat(buf.getShort()));
        }
        break;
      default:
        throw new IllegalArgumentException("not a float type: " + type);
    }
  }

  static String describe(Onnx.TensorProto t) {
    return "'"
        + t.getName()
        + "' "
        + ElementTypes.name(t.getDataType())
        + " "
        + Arrays.toString(dims(t));
  }
}
