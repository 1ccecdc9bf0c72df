package dev.halfbisect.core.data;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.io.SafeFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npz} archives: a zip whose members are {@code NAME.npy} files (see
 * {@link Npy}). Reading accepts stored and deflated members; writing stores them uncompressed, in
 * map order, as {@code numpy.savez} does.
 *
 * <p>Member names are the array names plus {@code .npy}, exactly as {@code numpy.savez} writes
 * them: ONNX tensor names such as {@code /encoder/layer.0/Add_output_0} (common in PyTorch exports)
 * are member names as they are. Nothing is ever extracted to the file system, so the only names
 * refused (on read and write) are those that would be path traversal if an archive tool did extract
 * them ({@code ..} segments, split on {@code /} and {@code \}), empty names and control characters;
 * members that are not {@code .npy} files and duplicate names are refused too.
 */
public final class Npz {
  private Npz() {}

  /**
   * Reads every array of an {@code .npz} file, keyed by member name without {@code .npy}, in
   * archive order.
   */
  public static Map<String, Tensor> read(Path file) throws IOException {
    String source = file.toString();
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        String key = keyOf(e, source);
        if (key == null) {
          continue;
        }
        try (InputStream in = zip.getInputStream(e)) {
          put(
              out,
              key,
              Npy.parseOwned(readMember(in, e, source), source + "!" + e.getName()),
              source);
        }
      }
    } catch (ZipException | EOFException e) {
      // a truncated archive surfaces as EOFException from ZipFile's central-directory scan
      throw new NpyFormatException(source, "not a valid .npz (zip) archive: " + e, e);
    }
    return Collections.unmodifiableMap(out);
  }

  /** Reads an {@code .npz} held in memory; {@code source} names it in errors. */
  public static Map<String, Tensor> parse(byte[] bytes, String source) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (ZipInputStream zin = new ZipInputStream(new ByteArrayInputStream(bytes))) {
      ZipEntry e;
      boolean any = false;
      while ((e = zin.getNextEntry()) != null) {
        any = true;
        String key = keyOf(e, source);
        if (key == null) {
          continue;
        }
        put(
            out,
            key,
            Npy.parseOwned(readMember(zin, e, source), source + "!" + e.getName()),
            source);
      }
      if (!any && !isEmptyZip(bytes)) {
        throw new NpyFormatException(source, "not a valid .npz (zip) archive");
      }
    } catch (IOException e) {
      throw new NpyFormatException(source, "not a valid .npz (zip) archive: " + e.getMessage(), e);
    }
    return Collections.unmodifiableMap(out);
  }

  /** Writes {@code arrays} as an uncompressed {@code .npz} file, members in map order. */
  public static void write(Path file, Map<String, Tensor> arrays) throws IOException {
    byte[] bytes = toBytes(arrays);
    SafeFiles.write(file, bytes);
  }

  /** The bytes of an uncompressed {@code .npz} holding {@code arrays} in map order. */
  public static byte[] toBytes(Map<String, Tensor> arrays) {
    for (String name : arrays.keySet()) {
      String problem = nameProblem(name);
      if (problem != null) {
        throw new IllegalArgumentException("cannot write array '" + name + "' to .npz: " + problem);
      }
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zout = new ZipOutputStream(bytes, StandardCharsets.UTF_8)) {
      for (Map.Entry<String, Tensor> a : arrays.entrySet()) {
        byte[] npy = Npy.toBytes(a.getValue());
        ZipEntry e = new ZipEntry(a.getKey() + ".npy");
        e.setMethod(ZipEntry.STORED);
        e.setSize(npy.length);
        e.setCompressedSize(npy.length);
        CRC32 crc = new CRC32();
        crc.update(npy);
        e.setCrc(crc.getValue());
        e.setTime(0); // reproducible archives
        zout.putNextEntry(e);
        zout.write(npy);
        zout.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    return bytes.toByteArray();
  }

  /** Why {@code name} (without .npy) is not a safe member name, or null when it is. */
  static String nameProblem(String name) {
    if (name.isEmpty()) {
      return "empty name";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return "control character in name";
      }
    }
    for (String seg : name.split("[/\\\\]", -1)) {
      if (seg.equals("..")) {
        return "path traversal ('..' segment) in name";
      }
    }
    return null;
  }

  private static String keyOf(ZipEntry e, String source) {
    String member = e.getName();
    if (e.isDirectory()) {
      return null;
    }
    if (!member.endsWith(".npy")) {
      throw new NpyFormatException(source + "!" + member, "member is not a .npy array");
    }
    String key = member.substring(0, member.length() - 4);
    String problem = nameProblem(key);
    if (problem != null) {
      throw new NpyFormatException(source + "!" + member, "unsafe member name: " + problem);
    }
    return key;
  }

  private static byte[] readMember(InputStream in, ZipEntry e, String source) throws IOException {
    if (e.getSize() > Npy.MAX_BYTES) {
      throw new NpyFormatException(
          source + "!" + e.getName(),
          "member of " + e.getSize() + " bytes is larger than halfbisect can hold");
    }
    // never read (inflate) more than the member declares, nor more than a tensor can hold
    long limit = e.getSize() >= 0 ? e.getSize() : Npy.MAX_BYTES;
    Bounded buf = new Bounded(limit);
    try {
      in.transferTo(buf);
    } catch (IllegalStateException tooLarge) {
      throw new NpyFormatException(source + "!" + e.getName(), tooLarge.getMessage(), tooLarge);
    }
    if (e.getSize() >= 0 && buf.size() != e.getSize()) {
      throw new NpyFormatException(
          source + "!" + e.getName(),
          "member holds " + buf.size() + " bytes but the archive declares " + e.getSize());
    }
    return buf.toByteArray();
  }

  private static void put(Map<String, Tensor> out, String key, Tensor t, String source) {
    if (out.put(key, t) != null) {
      throw new NpyFormatException(source, "array '" + key + "' appears twice");
    }
  }

  private static boolean isEmptyZip(byte[] bytes) {
    // an archive without entries is only its end-of-central-directory record
    return bytes.length == 22
        && bytes[0] == 'P'
        && bytes[1] == 'K'
        && bytes[2] == 5
        && bytes[3] == 6;
  }

  /** A byte sink that refuses to grow past what a tensor can hold. */
  private static final class Bounded extends ByteArrayOutputStream {
    private final long limit;

    Bounded(long limit) {
      this.limit = limit;
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      check(len);
      super.write(b, off, len);
    }

    @Override
    public synchronized void write(int b) {
      check(1);
      super.write(b);
    }

    private void check(int more) {
      if (count + (long) more > limit) {
        throw new IllegalStateException(
            "member inflates to more than the "
                + limit
                + " bytes it declares"
                + " or than halfbisect can hold");
      }
    }
  }
}
