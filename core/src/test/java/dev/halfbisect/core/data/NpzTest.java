package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.Tensor;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzTest {

  static byte[] zip(boolean deflate, Object... nameAndBytes) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(bytes)) {
      z.setMethod(deflate ? ZipOutputStream.DEFLATED : ZipOutputStream.STORED);
      for (int i = 0; i < nameAndBytes.length; i += 2) {
        byte[] b = (byte[]) nameAndBytes[i + 1];
        ZipEntry e = new ZipEntry((String) nameAndBytes[i]);
        if (!deflate) {
          java.util.zip.CRC32 crc = new java.util.zip.CRC32();
          crc.update(b);
          e.setSize(b.length);
          e.setCompressedSize(b.length);
          e.setCrc(crc.getValue());
        }
        z.putNextEntry(e);
        z.write(b);
        z.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  @Test
  void roundTripKeepsOrderAndEveryDType(@TempDir Path dir) throws Exception {
    Map<String, Tensor> m = new LinkedHashMap<>();
    int i = 0;
    for (Tensor t : NpyTest.oneOfEachDType()) {
      m.put("z" + (9 - i) + "_" + t.dtype().cliName(), t);
      i++;
    }
    m.put("encoder/layer.0/out", Tensor.ofFloats(new long[] {1}, 2f));
    Path f = dir.resolve("all.npz");
    Npz.write(f, m);
    Map<String, Tensor> back = Npz.read(f);
    assertThat(back.keySet()).containsExactlyElementsOf(m.keySet());
    assertThat(back).isEqualTo(m);
    assertThat(Npz.parse(Files.readAllBytes(f), "mem")).isEqualTo(m);
    // stored, not compressed: the raw .npy bytes are in the file
    assertThat(Files.size(f))
        .isGreaterThan(m.values().stream().mapToLong(t -> t.bytes().remaining()).sum());
    assertThat(Npz.toBytes(m)).isEqualTo(Files.readAllBytes(f)); // reproducible
  }

  @Test
  void readsDeflatedMembers(@TempDir Path dir) throws Exception {
    Tensor a = Tensor.ofFloats(new long[] {1000}, new float[1000]);
    Tensor b = Tensor.ofLongs(new long[] {2}, 1, 2);
    byte[] z = zip(true, "a.npy", Npy.toBytes(a), "b.npy", Npy.toBytes(b));
    Path f = dir.resolve("d.npz");
    Files.write(f, z);
    assertThat(Npz.read(f)).containsExactly(Map.entry("a", a), Map.entry("b", b));
    assertThat(Npz.parse(z, "d.npz")).containsExactly(Map.entry("a", a), Map.entry("b", b));
  }

  @Test
  void hostileAndBrokenMembersAreRejected(@TempDir Path dir) throws Exception {
    byte[] npy = Npy.toBytes(Tensor.ofFloats(new long[] {1}, 1f));
    for (String bad :
        new String[] {
          "../evil.npy", "..\\evil.npy", "a/../../b.npy", "a\\..\\b.npy", ".npy", "x\u0001.npy"
        }) {
      for (boolean deflate : new boolean[] {false, true}) {
        Path f = dir.resolve("h.npz");
        Files.write(f, zip(deflate, "ok.npy", npy, bad, npy));
        assertThatThrownBy(() -> Npz.read(f))
            .as(bad)
            .isInstanceOf(NpyFormatException.class)
            .hasMessageContaining(f + "!" + bad)
            .hasMessageContaining("unsafe member name");
        assertThatThrownBy(() -> Npz.parse(Files.readAllBytes(f), "h.npz"))
            .as(bad)
            .isInstanceOf(NpyFormatException.class)
            .hasMessageContaining("h.npz!" + bad);
      }
    }
    assertThatThrownBy(() -> Npz.parse(zip(false, "notes.txt", new byte[] {1}), "n.npz"))
        .hasMessageContaining("n.npz!notes.txt: member is not a .npy array");
    byte[] broken = java.util.Arrays.copyOf(npy, npy.length - 2);
    assertThatThrownBy(() -> Npz.parse(zip(true, "x.npy", broken), "b.npz"))
        .hasMessageContaining("b.npz!x.npy: shape (1,) of float32 needs 4 data bytes");
    Path f = dir.resolve("b.npz");
    Files.write(f, zip(false, "x.npy", broken));
    assertThatThrownBy(() -> Npz.read(f)).hasMessageContaining(f + "!x.npy: shape (1,)");
    Files.write(f, new byte[] {1, 2, 3, 4, 5});
    assertThatThrownBy(() -> Npz.read(f))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining(f + ": not a valid .npz");
    assertThatThrownBy(() -> Npz.parse(new byte[] {1, 2, 3, 4, 5}, "g.npz"))
        .hasMessageContaining("g.npz: not a valid .npz");
    assertThatThrownBy(() -> Npz.parse(new byte[0], "e.npz"))
        .hasMessageContaining("e.npz: not a valid .npz");
    assertThat(Npz.parse(Npz.toBytes(Map.of()), "empty.npz")).isEmpty();
    // a truncated archive
    byte[] whole = zip(true, "x.npy", npy);
    Files.write(f, java.util.Arrays.copyOf(whole, whole.length / 2));
    assertThatThrownBy(() -> Npz.read(f))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining(f.toString());
  }

  @Test
  void writesOnlySafeNames() {
    Tensor t = Tensor.ofFloats(new long[] {1}, 1f);
    for (String bad : new String[] {"", "..", "a/../b", "..\\b", "x\u0000y"}) {
      assertThatThrownBy(() -> Npz.toBytes(Map.of(bad, t)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cannot write array");
    }
  }

  @Test
  void memberNamesAreTheTensorNamesAsNumpyWritesThem() throws Exception {
    Tensor t = Tensor.ofFloats(new long[] {1}, 1f);
    String onnxName = "/encoder/layer.0/attention/Softmax_output_0";
    Map<String, Tensor> arrays = new LinkedHashMap<>();
    arrays.put(onnxName, t);
    arrays.put("input:0", t);
    arrays.put("a//b\\c", t);
    byte[] bytes = Npz.toBytes(arrays);
    try (java.util.zip.ZipInputStream z =
        new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(bytes))) {
      assertThat(z.getNextEntry().getName()).isEqualTo(onnxName + ".npy");
    }
    assertThat(Npz.parse(bytes, "m").keySet()).containsExactly(onnxName, "input:0", "a//b\\c");
    // as numpy.savez(f, **{"/embeddings/Add_output_0": a}) writes it
    byte[] numpyStyle = zip(true, "/embeddings/Add_output_0.npy", Npy.toBytes(t));
    assertThat(Npz.parse(numpyStyle, "n.npz"))
        .containsExactly(Map.entry("/embeddings/Add_output_0", t));
  }
}
