package dev.halfbisect.api;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads NumPy {@code .npy} files and {@code .npz} archives (stored or deflated, little-endian,
 * C order) into {@link Tensor}s: the inputs users save with {@code np.savez}. Errors name the file,
 * the entry and what was expected.
 */
public final class NumpyFiles {
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private NumpyFiles() {}

  /** Reads a {@code .npz} (all arrays, by name without {@code .npy}) or a single {@code .npy}. */
  public static Map<String, Tensor> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("file not found: " + file);
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    if (file.getFileName().toString().endsWith(".npy")) {
      String n = file.getFileName().toString();
      out.put(n.substring(0, n.length() - 4), parseNpy(Files.readAllBytes(file), file.toString()));
      return out;
    }
    try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
      ZipEntry e;
      while ((e = zip.getNextEntry()) != null) {
        String n = e.getName();
        if (!n.endsWith(".npy")) {
          throw new IOException(file + ": entry '" + n + "' is not a .npy array");
        }
        out.put(n.substring(0, n.length() - 4), parseNpy(readAll(zip), file + ":" + n));
      }
    }
    if (out.isEmpty()) {
      throw new IOException(file + " is not a .npz archive (no arrays found)");
    }
    return out;
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    in.transferTo(b);
    return b.toByteArray();
  }

  static Tensor parseNpy(byte[] data, String where) throws IOException {
    if (data.length < 10 || data[0] != (byte) 0x93 || data[1] != 'N' || data[2] != 'U' || data[3] != 'M') {
      throw new IOException(where + " is not a .npy array (bad magic)");
    }
    int major = data[6];
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int headerLen;
    int start;
    if (major == 1) {
      headerLen = b.getShort(8) & 0xffff;
      start = 10;
    } else {
      headerLen = b.getInt(8);
      start = 12;
    }
    String header = new String(data, start, headerLen, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !s.find()) {
      throw new IOException(where + ": unreadable .npy header: " + header.trim());
    }
    if (f.find() && f.group(1).equals("True")) {
      throw new IOException(where + ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
    }
    String descr = d.group(1);
    DType dtype = null;
    for (DType t : DType.values()) {
      if (t.npyDescr().equals(descr) || t.npyDescr().replace('<', '|').equals(descr)) {
        dtype = t;
      }
    }
    if (dtype == null) {
      throw new IOException(where + ": unsupported dtype '" + descr + "' (expected little-endian float32, float16, "
          + "float64, int64, int32, int8, uint8 or bool)");
    }
    String[] dims = s.group(1).split(",");
    long[] shape = java.util.Arrays.stream(dims).map(String::trim).filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    int offset = start + headerLen;
    long bytes = Tensor.elementCount(shape) * dtype.byteSize();
    if (data.length - offset < bytes) {
      throw new IOException(where + ": truncated data (" + (data.length - offset) + " bytes, expected " + bytes + ")");
    }
    return Tensor.ofBytes(dtype, shape, ByteBuffer.wrap(data, offset, (int) bytes).slice());
  }
}
