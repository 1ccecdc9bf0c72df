package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed {@code .npy}/{@code .npz} corpus: each file is rejected with an NpyFormatException
 * whose message names the file (and the member for archives). Regression tests for fuzzer findings
 * too.
 */
class MalformedDataFilesTest {
  @TempDir Path tmp;

  private static final byte[] NPZ = Npz.toBytes(Map.of("x", Tensor.ofFloats(new long[] {2}, 1, 2)));

  /**
   * Fuzzer finding: ZipFile's central-directory scan threw a raw EOFException on truncated files.
   */
  @Test
  void truncatedNpzFileIsAFormatErrorNamingTheFileAtEveryLength() throws Exception {
    Path f = tmp.resolve("cut.npz");
    for (int len = 1; len < NPZ.length; len++) {
      Files.write(f, Arrays.copyOf(NPZ, len));
      assertThatThrownBy(() -> Npz.read(f))
          .as("length " + len)
          .isInstanceOf(NpyFormatException.class)
          .hasMessageContaining("cut.npz");
    }
  }

  @Test
  void garbageFilesAreRejectedNamingTheFile() throws Exception {
    Path npy =
        Files.write(
            tmp.resolve("garbage.npy"), "hello, not numpy".getBytes(StandardCharsets.UTF_8));
    Path npz =
        Files.write(
            tmp.resolve("garbage.npz"), "PK\u0003\u0004 broken".getBytes(StandardCharsets.UTF_8));
    Path empty = Files.write(tmp.resolve("empty.npy"), new byte[0]);
    assertThatThrownBy(() -> Npy.read(npy))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("garbage.npy");
    assertThatThrownBy(() -> Npz.read(npz))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("garbage.npz");
    assertThatThrownBy(() -> Npy.read(empty))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("empty.npy");
  }

  @Test
  void hugeDeclaredShapeIsRejectedWithoutAllocating() {
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }";
    byte[] npy = npyV1(header, new byte[16]);
    assertThatThrownBy(() -> Npy.parse(npy, "huge.npy"))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("huge.npy")
        .hasMessageContaining("(truncated file?)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"../x.npy", "..\\x.npy", "dir/../../up.npy", "/../up.npy", ".npy"})
  void hostileMemberNamesAreRejectedNamingTheMember(String member) throws Exception {
    byte[] zip =
        NpyFuzzTest.zip(ZipEntry.DEFLATED, member, Npy.toBytes(Tensor.ofFloats(new long[] {1}, 1)));
    assertThatThrownBy(() -> Npz.parse(zip, "hostile.npz"))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("hostile.npz!" + member)
        .hasMessageContaining("unsafe member name");
    Path f = Files.write(tmp.resolve("hostile.npz"), zip);
    assertThatThrownBy(() -> Npz.read(f))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining("hostile.npz!" + member);
    // nothing was written next to or above the archive
    try (var files = Files.list(tmp)) {
      org.assertj.core.api.Assertions.assertThat(files).containsExactly(f);
    }
  }

  private static byte[] npyV1(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = new byte[10 + h.length + data.length];
    out[0] = (byte) 0x93;
    System.arraycopy("NUMPY".getBytes(StandardCharsets.ISO_8859_1), 0, out, 1, 5);
    out[6] = 1;
    out[8] = (byte) h.length;
    out[9] = (byte) (h.length >> 8);
    System.arraycopy(h, 0, out, 10, h.length);
    System.arraycopy(data, 0, out, 10 + h.length, data.length);
    return out;
  }
}
