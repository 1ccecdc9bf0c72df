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
    out.writeInt(list.size());
    for (String s : list) {
      writeString(out, s);
    }
  }

  public static ImmutableList<String> readStrings(DataInputStream in) throws IOException {
    int n = readCount(in);
    ImmutableList.Builder<String> b = ImmutableList.builderWithExpectedSize(n);
    for (int i = 0; i < n; i++) {
      b.add(readString(in));
    }
    return b.build();
  }

  public static void writeStringMap(DataOutputStream out, Map<String, String> map)
      throws IOException {
    out.writeInt(map.size());
    for (Map.Entry<String, String> e : map.entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
  }

  public static ImmutableMap<String, String> readStringMap(DataInputStream in) throws IOException {
    int n = readCount(in);
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(readString(in), readString(in));
    }
    return ImmutableMap.copyOf(m);
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
    out.writeInt(shapes.size());
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      writeString(out, e.getKey());
      writeShape(out, e.getValue());
    }
  }

  public static ImmutableMap<String, long[]> readShapes(DataInputStream in) throws IOException {
    int n = readCount(in);
    Map<String, long[]> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(readString(in), readShape(in));
    }
    return ImmutableMap.copyOf(m);
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
    out.writeInt(tensors.size());
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      writeString(out, e.getKey());
      writeTensor(out, e.getValue());
    }
  }

  public static ImmutableMap<String, Tensor> readTensors(DataInputStream in) throws IOException {
    int n = readCount(in);
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(readString(in), readTensor(in));
    }
    return ImmutableMap.copyOf(m);
  }

  public static void writeInfos(DataOutputStream out, List<TensorInfo> infos) throws IOException {
    out.writeInt(infos.size());
    for (TensorInfo t : infos) {
      writeString(out, t.name());
      out.writeInt(t.dtype() == null ? 0 : t.dtype().onnxCode());
      writeShape(out, t.shape());
    }
  }

  public static ImmutableList<TensorInfo> readInfos(DataInputStream in) throws IOException {
    int n = readCount(in);
    ImmutableList.Builder<TensorInfo> b = ImmutableList.builder();
    for (int i = 0; i < n; i++) {
      String name = readString(in);
      DType d = DType.fromOnnxCode(in.readInt());
      b.add(new TensorInfo(name, d, readShape(in)));
    }
    return b.build();
  }

  static int readCount(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 10_000_000) {
      throw new ProtocolException("corrupt frame: element count " + n);
    }
    return n;
  }
}
