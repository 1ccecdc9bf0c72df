package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the {@code .npy} and {@code .npz} readers: valid files written by {@link Npy} /
 * {@link Npz} get their bytes and header text mutated; only {@link NpyFormatException} (or an
 * IllegalArgumentException with a message) may escape. CI runs 3,000 inputs per format; {@code
 * -Dhalfbisect.fuzz.iterations=N} and {@code -Dhalfbisect.fuzz.seed=S} run more.
 */
class NpyFuzzTest {
  private static final String[] HEADER_EDITS = {
    "'shape': (1000000, 1000000)",
    "'shape': (-1,)",
    "'shape': (9223372036854775807, 2)",
    "'shape': ()",
    "'shape': (3,",
    "'descr': '<f8'",
    "'descr': '|O'",
    "'descr': '>i4'",
    "'descr': 'garbage'",
    "'fortran_order': True",
    "'fortran_order': maybe",
    "}",
    "{",
    "'shape': (1, 2, 3, 4, 5, 6, 7, 8, 9)",
    "\u0000",
    "'shape': (0x10,)",
    "'shape': (1e3,)"
  };

  @TempDir Path tmp;

  @Test
  void mutatedNpyFilesAreRejectedOnlyWithTypedExceptions() {
    long seed = Long.getLong("halfbisect.fuzz.seed", 7L);
    SplittableRandom rnd = new SplittableRandom(seed);
    List<byte[]> corpus = npyCorpus();
    Map<String, String> bugs = new LinkedHashMap<>();
    int n = Integer.getInteger("halfbisect.fuzz.iterations", 3000);
    int accepted = 0;
    for (int i = 0; i < n; i++) {
      byte[] in = corpus.get(rnd.nextInt(corpus.size()));
      byte[] mutant = rnd.nextInt(3) == 0 ? editHeader(in, rnd) : mutateBytes(in, corpus, rnd);
      try {
        Tensor t = Npy.parse(mutant, "fuzz.npy");
        if (t.dtype().isFloatingPoint()) {
          t.toFloatArray();
        }
        accepted++;
      } catch (Throwable e) { // everything that escapes is looked at
        record(bugs, e, "npy seed " + seed + " iteration " + i);
      }
    }
    report("npy", n, accepted, bugs);
  }

  @Test
  void mutatedNpzArchivesAreRejectedOnlyWithTypedExceptions() throws IOException {
    long seed = Long.getLong("halfbisect.fuzz.seed", 11L);
    SplittableRandom rnd = new SplittableRandom(seed);
    List<byte[]> corpus = npzCorpus();
    Map<String, String> bugs = new LinkedHashMap<>();
    int n = Integer.getInteger("halfbisect.fuzz.iterations", 3000);
    int accepted = 0;
    Path file = tmp.resolve("fuzz.npz");
    for (int i = 0; i < n; i++) {
      byte[] mutant = mutateBytes(corpus.get(rnd.nextInt(corpus.size())), corpus, rnd);
      try {
        if (i % 8 == 0) {
          // the file reader goes through ZipFile (central directory) instead of the stream reader
          Files.write(file, mutant);
          Npz.read(file);
        } else {
          Npz.parse(mutant, "fuzz.npz");
        }
        accepted++;
      } catch (Throwable e) { // everything that escapes is looked at
        record(bugs, e, "npz seed " + seed + " iteration " + i);
      }
    }
    report("npz", n, accepted, bugs);
  }

  private static void report(String what, int n, int accepted, Map<String, String> bugs) {
    System.out.printf(
        "NpyFuzzTest %s: %d inputs, %d accepted, %d distinct bugs%n",
        what, n, accepted, bugs.size());
    bugs.forEach((sig, how) -> System.out.println("BUG " + sig + "\n  " + how));
    assertThat(bugs).as("untyped exceptions escaped the " + what + " reader").isEmpty();
    assertThat(accepted).as("some mutants stay valid").isPositive();
  }

  private static void record(Map<String, String> bugs, Throwable e, String where) {
    boolean allowed =
        e instanceof NpyFormatException
            || (e.getClass() == IllegalArgumentException.class && e.getMessage() != null);
    if (allowed && e.getMessage() != null && e.getMessage().contains("fuzz.np")) {
      return;
    }
    if (allowed && e instanceof IllegalArgumentException) {
      return;
    }
    StackTraceElement top = e.getStackTrace().length > 0 ? e.getStackTrace()[0] : null;
    StringWriter w = new StringWriter();
    e.printStackTrace(new PrintWriter(w));
    bugs.putIfAbsent(
        e.getClass().getSimpleName() + " at " + top,
        where + "\n" + w.toString().substring(0, Math.min(2000, w.toString().length())));
  }

  private static List<byte[]> npyCorpus() {
    List<byte[]> c = new ArrayList<>();
    Tensor[] ts = {
      Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6),
      Tensor.ofLongs(new long[] {4}, 1, -2, 3, Long.MAX_VALUE),
      Tensor.ofHalfBits(new long[] {2}, (short) 0x3c00, (short) 0x7bff),
      Tensor.ofBooleans(new long[] {3}, true, false, true),
      Tensor.ofFloats(new long[] {}, 42f),
      Tensor.ofFloats(new long[] {0, 5}),
      Tensor.ofBytes(DType.UINT8, new long[] {5}, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 5)
    };
    for (Tensor t : ts) {
      c.add(Npy.toBytes(t));
      c.add(Npy.toBytes(t, 2));
      c.add(Npy.toBytes(t, 3));
    }
    return c;
  }

  private static List<byte[]> npzCorpus() throws IOException {
    List<byte[]> c = new ArrayList<>();
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("input_ids", Tensor.ofLongs(new long[] {1, 4}, 101, 7, 8, 102));
    m.put("x", Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4));
    c.add(Npz.toBytes(m));
    c.add(Npz.toBytes(Map.of("only", Tensor.ofFloats(new long[] {3}, 1, 2, 3))));
    // stored (uncompressed) members and hostile names as extra seeds
    c.add(zip(ZipEntry.STORED, "a.npy", Npy.toBytes(Tensor.ofFloats(new long[] {2}, 1, 2))));
    c.add(zip(ZipEntry.DEFLATED, "../x.npy", Npy.toBytes(Tensor.ofFloats(new long[] {1}, 1))));
    return c;
  }

  static byte[] zip(int method, String name, byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      ZipEntry e = new ZipEntry(name);
      e.setMethod(method);
      if (method == ZipEntry.STORED) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(data);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        e.setCrc(crc.getValue());
      }
      z.putNextEntry(e);
      z.write(data);
      z.closeEntry();
    }
    return out.toByteArray();
  }

  private static byte[] editHeader(byte[] in, SplittableRandom rnd) {
    String s = new String(in, StandardCharsets.ISO_8859_1);
    String edit = HEADER_EDITS[rnd.nextInt(HEADER_EDITS.length)];
    String key = edit.startsWith("'") ? edit.substring(0, edit.indexOf(':') + 1) : null;
    String out;
    if (key != null && s.contains(key)) {
      int from = s.indexOf(key);
      int to = key.startsWith("'shape") ? s.indexOf(')', from) + 1 : s.indexOf(',', from);
      out = s.substring(0, from) + edit + s.substring(Math.max(to, from + key.length()));
    } else {
      int at = 10 + rnd.nextInt(Math.max(1, s.length() - 10));
      out = s.substring(0, Math.min(at, s.length())) + edit + s.substring(Math.min(at, s.length()));
    }
    return out.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] mutateBytes(byte[] in, List<byte[]> corpus, SplittableRandom rnd) {
    byte[] out = in.clone();
    int at = rnd.nextInt(Math.max(1, in.length));
    switch (rnd.nextInt(6)) {
      case 0:
        for (int k = 1 + rnd.nextInt(6); k > 0; k--) {
          out[rnd.nextInt(out.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
        return out;
      case 1:
        return Arrays.copyOf(in, at);
      case 2:
        {
          // 32-bit little-endian length fields (zip sizes, npy v2 header length) set to extremes
          int v = rnd.nextBoolean() ? -1 : rnd.nextInt();
          for (int k = 0; k < 4 && at + k < out.length; k++) {
            out[at + k] = (byte) (v >>> (8 * k));
          }
          return out;
        }
      case 3:
        {
          byte[] ins = new byte[1 + rnd.nextInt(32)];
          rnd.nextBytes(ins);
          byte[] r = new byte[in.length + ins.length];
          System.arraycopy(in, 0, r, 0, at);
          System.arraycopy(ins, 0, r, at, ins.length);
          System.arraycopy(in, at, r, at + ins.length, in.length - at);
          return r;
        }
      case 4:
        {
          int n = Math.min(in.length - at, 1 + rnd.nextInt(32));
          byte[] r = new byte[in.length - n];
          System.arraycopy(in, 0, r, 0, at);
          System.arraycopy(in, at + n, r, at, in.length - at - n);
          return r;
        }
      default:
        {
          byte[] other = corpus.get(rnd.nextInt(corpus.size()));
          int cut = rnd.nextInt(Math.max(1, other.length));
          byte[] r = Arrays.copyOf(in, at + other.length - cut);
          System.arraycopy(other, cut, r, at, other.length - cut);
          return r;
        }
    }
  }
}
