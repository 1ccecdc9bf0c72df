package dev.halfbisect.core.data;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.io.SafeFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reads and writes single arrays in NumPy's {@code .npy} format (C order only).
 *
 * <p>Reading accepts header versions 1.0, 2.0 and 3.0, every {@link DType} ({@code |b1} for bool,
 * {@code <V2}, {@code |V2} or {@code bfloat16} for bfloat16), {@code <}, {@code |} and {@code =}
 * byte-order marks, and big-endian ({@code >}) data, which is converted to little-endian on read.
 * The declared shape is checked against the bytes actually present before anything is allocated,
 * and the data must fill the rest of the input exactly. Every problem is an {@link
 * NpyFormatException} naming the source; nothing is returned from a partial read.
 *
 * <p>Writing uses version 1.0 unless the header needs more than 65535 bytes (then 2.0), or the
 * version asked for; headers are padded so that the data starts at a multiple of 64 bytes.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int ALIGN = 64;

  /** Largest array halfbisect holds (a Java array / ByteBuffer). */
  static final long MAX_BYTES = Integer.MAX_VALUE - 8;

  private Npy() {}

  /** Reads one array from a file. */
  public static Tensor read(Path file) throws IOException {
    long size = Files.size(file);
    if (size > MAX_BYTES) {
      throw new NpyFormatException(
          file.toString(), "file of " + size + " bytes is larger than halfbisect can hold");
    }
    return parseOwned(Files.readAllBytes(file), file.toString());
  }

  /** Like {@link #parse} for an array nobody else holds: the tensor shares it instead of a copy. */
  static Tensor parseOwned(byte[] bytes, String source) {
    return parse(bytes, source, true);
  }

  /** Parses the bytes of a {@code .npy} file; {@code source} names it in errors. */
  public static Tensor parse(byte[] bytes, String source) {
    return parse(bytes, source, false);
  }

  private static Tensor parse(byte[] bytes, String source, boolean owned) {
    Preconditions.checkNotNull(bytes, "bytes");
    if (bytes.length < MAGIC.length + 2) {
      throw new NpyFormatException(
          source, "too short for a .npy file (" + bytes.length + " bytes)");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes[i] != MAGIC[i]) {
        throw new NpyFormatException(source, "not a .npy file (bad magic string)");
      }
    }
    int major = bytes[6] & 0xff;
    int minor = bytes[7] & 0xff;
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen;
    int headerStart;
    if (major == 1) {
      if (bytes.length < 10) {
        throw new NpyFormatException(source, "truncated header length");
      }
      headerLen = b.getShort(8) & 0xffff;
      headerStart = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) {
        throw new NpyFormatException(source, "truncated header length");
      }
      headerLen = b.getInt(8) & 0xffffffffL;
      headerStart = 12;
    } else {
      throw new NpyFormatException(
          source,
          "unsupported .npy format version " + major + "." + minor + " (expected 1.0, 2.0 or 3.0)");
    }
    if (headerStart + headerLen > bytes.length) {
      throw new NpyFormatException(
          source,
          "header of "
              + headerLen
              + " bytes runs past the end of the "
              + bytes.length
              + "-byte input (truncated file?)");
    }
    String header =
        new String(
            bytes,
            headerStart,
            (int) headerLen,
            major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Header h = Header.parse(header, source);
    int dataStart = headerStart + (int) headerLen;
    long count;
    try {
      count = Tensor.elementCount(h.shape);
    } catch (ArithmeticException e) {
      throw new NpyFormatException(
          source, "declared shape " + shapeText(h.shape) + " overflows", e);
    }
    long available = bytes.length - dataStart;
    long needed = count > available ? Long.MAX_VALUE : count * h.dtype.byteSize();
    if (needed != available) {
      throw new NpyFormatException(
          source,
          String.format(
              Locale.ROOT,
              "shape %s of %s needs %s data bytes but the file holds %d%s",
              shapeText(h.shape),
              h.dtype.cliName(),
              needed == Long.MAX_VALUE ? "more than " + available : Long.toString(needed),
              available,
              needed > available ? " (truncated file?)" : " (trailing bytes)"));
    }
    // the tensor shares an array only this reader holds: the input file's bytes when they were
    // read here, else a copy of the data part
    byte[] mine = owned ? bytes : Arrays.copyOfRange(bytes, dataStart, bytes.length);
    int start = owned ? dataStart : 0;
    if (h.bigEndian && h.dtype.byteSize() > 1) {
      swapBytes(mine, start, mine.length, h.dtype.byteSize());
    }
    ByteBuffer data = ByteBuffer.wrap(mine, start, (int) needed).slice().asReadOnlyBuffer();
    return Tensor.ofBytes(h.dtype, h.shape, data);
  }

  /** Writes {@code t} to {@code file} (version 1.0, or 2.0 when the header needs it). */
  public static void write(Path file, Tensor t) throws IOException {
    SafeFiles.write(file, toBytes(t));
  }

  /** The {@code .npy} bytes of {@code t} (version 1.0, or 2.0 when the header needs it). */
  public static byte[] toBytes(Tensor t) {
    return toBytes(t, 0);
  }

  /**
   * The {@code .npy} bytes of {@code t} with header version {@code major} (1, 2 or 3; 0 = the
   * smallest that fits).
   */
  public static byte[] toBytes(Tensor t, int major) {
    Preconditions.checkArgument(
        major >= 0 && major <= 3, "npy version must be 1, 2 or 3 (0 = automatic), got %s", major);
    StringBuilder dict = new StringBuilder();
    dict.append("{'descr': '")
        .append(t.dtype().npyDescr())
        .append("', 'fortran_order': False, 'shape': (");
    long[] shape = t.shape();
    for (int i = 0; i < shape.length; i++) {
      dict.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
    }
    dict.append("), }");
    byte[] dictBytes =
        dict.toString().getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    if (major == 0) {
      major = padded(10, dictBytes.length) - 10 <= 0xffff ? 1 : 2;
    }
    int prefix = major == 1 ? 10 : 12;
    int total = padded(prefix, dictBytes.length);
    int headerLen = total - prefix;
    Preconditions.checkArgument(
        major != 1 || headerLen <= 0xffff,
        "header of %s bytes does not fit npy version 1.0",
        headerLen);
    ByteBuffer data = t.bytes();
    ByteBuffer out =
        ByteBuffer.allocate(Math.addExact(total, data.remaining())).order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).put((byte) major).put((byte) 0);
    if (major == 1) {
      out.putShort((short) headerLen);
    } else {
      out.putInt(headerLen);
    }
    out.put(dictBytes);
    for (int i = dictBytes.length; i < headerLen - 1; i++) {
      out.put((byte) ' ');
    }
    out.put((byte) '\n');
    out.put(data);
    return out.array();
  }

  /** Total header size (prefix + dict + padding + newline), a multiple of 64. */
  private static int padded(int prefix, int dictLen) {
    int raw = prefix + dictLen + 1;
    return (raw + ALIGN - 1) / ALIGN * ALIGN;
  }

  private static void swapBytes(byte[] a, int from, int to, int width) {
    for (int i = from; i + width <= to; i += width) {
      for (int j = 0; j < width / 2; j++) {
        byte t = a[i + j];
        a[i + j] = a[i + width - 1 - j];
        a[i + width - 1 - j] = t;
      }
    }
  }

  static String shapeText(long[] shape) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i > 0 ? ", " : "").append(shape[i]);
    }
    return sb.append(shape.length == 1 ? ",)" : ")").toString();
  }

  /** The parsed header dictionary. */
  private static final class Header {
    DType dtype;
    boolean bigEndian;
    long[] shape;

    static Header parse(String text, String source) {
      HeaderParser p = new HeaderParser(text, source);
      Header h = new Header();
      String descr = null;
      Boolean fortran = null;
      p.expect('{');
      while (true) {
        p.skipSpace();
        if (p.peek() == '}') {
          p.pos++;
          break;
        }
        String key = p.string();
        p.skipSpace();
        p.expect(':');
        p.skipSpace();
        switch (key) {
          case "descr":
            descr = p.string();
            break;
          case "fortran_order":
            fortran = p.bool();
            break;
          case "shape":
            h.shape = p.tuple();
            break;
          default:
            throw new NpyFormatException(source, "unexpected header key '" + key + "'");
        }
        p.skipSpace();
        if (p.peek() == ',') {
          p.pos++;
        } else if (p.peek() != '}') {
          throw p.error("expected ',' or '}'");
        }
      }
      p.skipSpace();
      if (p.pos != text.length()) {
        throw p.error("unexpected text after the header dictionary");
      }
      if (descr == null || fortran == null || h.shape == null) {
        throw new NpyFormatException(
            source,
            "header lacks "
                + (descr == null ? "'descr'" : fortran == null ? "'fortran_order'" : "'shape'")
                + ": "
                + text.trim());
      }
      if (fortran) {
        throw new NpyFormatException(
            source,
            "fortran_order True is not supported; save the array in C order "
                + "(numpy.ascontiguousarray)");
      }
      h.bigEndian = descr.startsWith(">");
      h.dtype = dtypeOf(descr, source);
      return h;
    }

    private static DType dtypeOf(String descr, String source) {
      if (descr.equals("bfloat16")) {
        return DType.BFLOAT16;
      }
      String body = descr;
      if (!descr.isEmpty() && "<>|=".indexOf(descr.charAt(0)) >= 0) {
        body = descr.substring(1);
      }
      switch (body) {
        case "f4":
          return DType.FLOAT32;
        case "f2":
          return DType.FLOAT16;
        case "f8":
          return DType.FLOAT64;
        case "i8":
          return DType.INT64;
        case "i4":
          return DType.INT32;
        case "i1":
          return DType.INT8;
        case "u1":
          return DType.UINT8;
        case "b1":
          return DType.BOOL;
        case "V2":
          return DType.BFLOAT16;
        default:
          throw new NpyFormatException(
              source,
              "unsupported dtype '"
                  + descr
                  + "' (supported: f4, f2, f8, i8, i4, i1, u1, b1, bfloat16 as V2)");
      }
    }
  }

  /** Just enough of a Python literal parser for the header dictionary. */
  private static final class HeaderParser {
    final String text;
    final String source;
    int pos;

    HeaderParser(String text, String source) {
      this.text = text;
      this.source = source;
    }

    NpyFormatException error(String what) {
      return new NpyFormatException(
          source, "malformed header at character " + pos + ": " + what + " in " + text.trim());
    }

    char peek() {
      if (pos >= text.length()) {
        throw error("unexpected end");
      }
      return text.charAt(pos);
    }

    void skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }

    void expect(char c) {
      skipSpace();
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    String string() {
      char q = peek();
      if (q != '\'' && q != '"') {
        throw error("expected a quoted string");
      }
      int end = text.indexOf(q, pos + 1);
      if (end < 0) {
        throw error("unterminated string");
      }
      String s = text.substring(pos + 1, end);
      pos = end + 1;
      return s;
    }

    boolean bool() {
      if (text.startsWith("True", pos)) {
        pos += 4;
        return true;
      }
      if (text.startsWith("False", pos)) {
        pos += 5;
        return false;
      }
      throw error("expected True or False");
    }

    long[] tuple() {
      expect('(');
      List<Long> dims = new ArrayList<>();
      while (true) {
        skipSpace();
        if (peek() == ')') {
          pos++;
          break;
        }
        int start = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
          pos++;
        }
        if (start == pos) {
          throw error("expected a non-negative dimension");
        }
        String digits = text.substring(start, pos);
        if (pos < text.length() && text.charAt(pos) == 'L') {
          pos++; // Python 2 long suffix
        }
        try {
          dims.add(Long.parseLong(digits));
        } catch (NumberFormatException e) {
          throw error("dimension " + digits + " is too large");
        }
        skipSpace();
        if (peek() == ',') {
          pos++;
        } else if (peek() != ')') {
          throw error("expected ',' or ')' in shape");
        }
      }
      return dims.stream().mapToLong(Long::longValue).toArray();
    }
  }
}
