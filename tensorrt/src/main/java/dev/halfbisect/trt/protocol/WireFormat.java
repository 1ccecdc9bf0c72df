package dev.halfbisect.trt.protocol;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TensorInfo;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Primitive encodings shared by every message of the worker protocol: strings (UTF-8, length
 * prefixed; writeUTF is limited to 64 KiB), byte blocks, string lists and maps, shapes and tensors.
 */
public final class WireFormat {
  /**
   * Upper bound on one byte block, so a corrupt length fails fast instead of allocating gigabytes.
   */
  static final int MAX_BLOCK = Integer.MAX_VALUE - 16;

  private WireFormat() {}

  /** Writes one value of a map or list. */
  @FunctionalInterface
  private interface Writer<T> {
    void write(DataOutputStream out, T value) throws IOException;
  }

  /** Reads one value of a map or list. */
  @FunctionalInterface
  private interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  public static void writeString(DataOutputStream out, String s) throws IOException {
    writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  public static String readString(DataInputStream in) throws IOException {
    return new String(readBytes(in), StandardCharsets.UTF_8);
  }

  public static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  public static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_BLOCK) {
      throw new ProtocolException("corrupt frame: byte block of length " + n);
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return b;
  }

  public static void writeStrings(DataOutputStream out, List<String> list) throws IOException {
    writeList(out, list, WireFormat::writeString);
  }

  public static ImmutableList<String> readStrings(DataInputStream in) throws IOException {
    return readList(in, WireFormat::readString);
  }

  public static void writeStringMap(DataOutputStream out, Map<String, String> map)
      throws IOException {
    writeMap(out, map, WireFormat::writeString);
  }

  public static ImmutableMap<String, String> readStringMap(DataInputStream in) throws IOException {
    return readMap(in, WireFormat::readString);
  }

  public static void writeShape(DataOutputStream out, long[] shape) throws IOException {
    out.writeInt(shape.length);
    for (long d : shape) {
      out.writeLong(d);
    }
  }

  public static long[] readShape(DataInputStream in) throws IOException {
    int rank = in.readInt();
    if (rank < 0 || rank > 64) {
      throw new ProtocolException("corrupt frame: tensor rank " + rank);
    }
    long[] s = new long[rank];
    for (int i = 0; i < rank; i++) {
      s[i] = in.readLong();
    }
    return s;
  }

  public static void writeShapes(DataOutputStream out, Map<String, long[]> shapes)
      throws IOException {
    writeMap(out, shapes, WireFormat::writeShape);
  }

  public static ImmutableMap<String, long[]> readShapes(DataInputStream in) throws IOException {
    return readMap(in, WireFormat::readShape);
  }

  /** A tensor: dtype (ONNX code), shape, raw little-endian bytes. */
  public static void writeTensor(DataOutputStream out, Tensor t) throws IOException {
    out.writeInt(t.dtype().onnxCode());
    writeShape(out, t.shape());
    ByteBuffer b = t.bytes();
    byte[] raw = new byte[b.remaining()];
    b.get(raw);
    writeBytes(out, raw);
  }

  public static Tensor readTensor(DataInputStream in) throws IOException {
    int code = in.readInt();
    DType dtype = DType.fromOnnxCode(code);
    if (dtype == null) {
      throw new ProtocolException("corrupt frame: unknown tensor dtype code " + code);
    }
    long[] shape = readShape(in);
    return Tensor.ofBytes(dtype, shape, ByteBuffer.wrap(readBytes(in)).asReadOnlyBuffer());
  }

  public static void writeTensors(DataOutputStream out, Map<String, Tensor> tensors)
      throws IOException {
    writeMap(out, tensors, WireFormat::writeTensor);
  }

  public static ImmutableMap<String, Tensor> readTensors(DataInputStream in) throws IOException {
    return readMap(in, WireFormat::readTensor);
  }

  public static void writeInfos(DataOutputStream out, List<TensorInfo> infos) throws IOException {
    writeList(
        out,
        infos,
        (o, t) -> {
          writeString(o, t.name());
          o.writeInt(t.dtype() == null ? 0 : t.dtype().onnxCode());
          writeShape(o, t.shape());
        });
  }

  public static ImmutableList<TensorInfo> readInfos(DataInputStream in) throws IOException {
    return readList(
        in,
        i -> {
          String name = readString(i);
          DType d = DType.fromOnnxCode(i.readInt());
          return new TensorInfo(name, d, readShape(i));
        });
  }

  /** Count, then each value. */
  private static <T> void writeList(DataOutputStream out, List<T> list, Writer<T> value)
      throws IOException {
    out.writeInt(list.size());
    for (T t : list) {
      value.write(out, t);
    }
  }

  private static <T> ImmutableList<T> readList(DataInputStream in, Reader<T> value)
      throws IOException {
    int n = readCount(in);
    ImmutableList.Builder<T> b = ImmutableList.builderWithExpectedSize(n);
    for (int i = 0; i < n; i++) {
      b.add(value.read(in));
    }
    return b.build();
  }

  /** Count, then each key (a string) and its value, in the map's order. */
  private static <V> void writeMap(DataOutputStream out, Map<String, V> map, Writer<V> value)
      throws IOException {
    out.writeInt(map.size());
    for (Map.Entry<String, V> e : map.entrySet()) {
      writeString(out, e.getKey());
      value.write(out, e.getValue());
    }
  }

  private static <V> ImmutableMap<String, V> readMap(DataInputStream in, Reader<V> value)
      throws IOException {
    int n = readCount(in);
    Map<String, V> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String key = readString(in); // the key comes first on the wire
      m.put(key, value.read(in));
    }
    return ImmutableMap.copyOf(m);
  }

  static int readCount(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 10_000_000) {
      throw new ProtocolException("corrupt frame: element count " + n);
    }
    return n;
  }
}
