package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

  /** A .npy file built by hand: magic, version, header length, the dict text as given, data. */
  static byte[] npy(int major, String dict, byte[] data) {
    int prefix = major == 1 ? 10 : 12;
    int len = dict.length() + 1;
    int pad = (64 - (prefix + len) % 64) % 64;
    ByteBuffer b =
        ByteBuffer.allocate(prefix + len + pad + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) {
      b.putShort((short) (len + pad));
    } else {
      b.putInt(len + pad);
    }
    b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
    for (int i = 0; i < pad; i++) {
      b.put((byte) ' ');
    }
    b.put((byte) '\n').put(data);
    return b.array();
  }

  static byte[] le(int... ints) {
    ByteBuffer b = ByteBuffer.allocate(4 * ints.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int i : ints) {
      b.putInt(i);
    }
    return b.array();
  }

  static List<Tensor> oneOfEachDType() {
    long[] s = {2, 3};
    return List.of(
        Tensor.ofFloats(s, 1, -2, 3.5f, Float.NaN, Float.POSITIVE_INFINITY, -0f),
        Tensor.ofHalfBits(
            s,
            (short) 0x3c00,
            (short) 0x7bff,
            (short) 0x0001,
            (short) 0x8000,
            (short) 0x7c00,
            (short) 0xc000),
        Tensor.ofBFloat16Bits(
            s,
            (short) 0x3f80,
            (short) 0xc000,
            (short) 1,
            (short) 0,
            (short) 0x7f80,
            (short) 0x4049),
        Tensor.ofDoubles(s, Math.PI, -1e300, 0, 1, 2, 3),
        Tensor.ofLongs(s, Long.MIN_VALUE, -1, 0, 1, 30522, Long.MAX_VALUE),
        Tensor.ofInts(s, Integer.MIN_VALUE, -1, 0, 1, 2, Integer.MAX_VALUE),
        Tensor.ofBytes(
            DType.INT8, s, (byte) -128, (byte) -1, (byte) 0, (byte) 1, (byte) 2, (byte) 127),
        Tensor.ofBytes(
            DType.UINT8, s, (byte) 255, (byte) 1, (byte) 0, (byte) 128, (byte) 2, (byte) 127),
        Tensor.ofBooleans(s, true, false, true, true, false, false));
  }

  @Test
  void everyDTypeRoundTripsInEveryVersion() {
    for (Tensor t : oneOfEachDType()) {
      for (int v = 0; v <= 3; v++) {
        byte[] bytes = Npy.toBytes(t, v);
        assertThat(bytes[6]).isEqualTo((byte) (v == 0 ? 1 : v));
        Tensor back = Npy.parse(bytes, "t.npy");
        assertThat(back).as("%s v%d", t, v).isEqualTo(t);
      }
    }
    Tensor scalar = Tensor.ofFloats(new long[0], 7f);
    assertThat(Npy.parse(Npy.toBytes(scalar), "s.npy")).isEqualTo(scalar);
    Tensor vector = Tensor.ofInts(new long[] {3}, 1, 2, 3);
    assertThat(Npy.parse(Npy.toBytes(vector), "v.npy")).isEqualTo(vector);
    Tensor empty = Tensor.ofFloats(new long[] {0, 5});
    assertThat(Npy.parse(Npy.toBytes(empty), "e.npy")).isEqualTo(empty);
  }

  @Test
  void parsedTensorDoesNotShareTheCallersArray() {
    Tensor t = Tensor.ofInts(new long[] {2}, 1, 2);
    byte[] b = Npy.toBytes(t);
    Tensor back = Npy.parse(b, "x.npy");
    Arrays.fill(b, (byte) 0x7f);
    assertThat(back).isEqualTo(t);
  }

  @Test
  void writesNumpysHeaderLayout() {
    byte[] b = Npy.toBytes(Tensor.ofFloats(new long[] {2, 3}, new float[6]));
    assertThat(Arrays.copyOf(b, 8)).containsExactly(0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0);
    int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
    assertThat((10 + headerLen) % 64).isZero();
    String header = new String(b, 10, headerLen, StandardCharsets.ISO_8859_1);
    assertThat(header)
        .startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
        .endsWith(" \n");
    assertThat(b.length).isEqualTo(10 + headerLen + 24);
    String one =
        new String(
            Npy.toBytes(Tensor.ofFloats(new long[] {4}, new float[4])),
            10,
            60,
            StandardCharsets.ISO_8859_1);
    assertThat(one).contains("'shape': (4,), ");
    String bf =
        new String(
            Npy.toBytes(Tensor.ofBooleans(new long[] {1}, true)),
            10,
            60,
            StandardCharsets.ISO_8859_1);
    assertThat(bf).contains("'descr': '|b1'");
  }

  @Test
  void readsHandBuiltHeaders() {
    // keys in any order, double quotes, no trailing comma, version 2
    Tensor t =
        Npy.parse(
            npy(2, "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<i4\"}", le(1, -2, 3)),
            "a.npy");
    assertThat(t.dtype()).isEqualTo(DType.INT32);
    assertThat(t.toLongArray()).containsExactly(1, -2, 3);
    // big-endian data is converted
    ByteBuffer be = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putFloat(1.5f).putFloat(-2f);
    Tensor f =
        Npy.parse(
            npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be.array()),
            "be.npy");
    assertThat(f.toFloatArray()).containsExactly(1.5f, -2f);
    ByteBuffer bl = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putLong(30522);
    assertThat(
            Npy.parse(
                    npy(1, "{'descr': '>i8', 'fortran_order': False, 'shape': (), }", bl.array()),
                    "x")
                .toLongArray())
        .containsExactly(30522);
    // bfloat16 as ml_dtypes names it, and as raw two-byte void
    byte[] bf = {(byte) 0x80, 0x3f};
    assertThat(
            Npy.parse(
                    npy(1, "{'descr': 'bfloat16', 'fortran_order': False, 'shape': (1,), }", bf),
                    "x")
                .toFloatArray())
        .containsExactly(1f);
    assertThat(
            Npy.parse(npy(1, "{'descr': '|V2', 'fortran_order': False, 'shape': (1,), }", bf), "x")
                .dtype())
        .isEqualTo(DType.BFLOAT16);
    // version 3 (UTF-8 header) and Python 2 long dims
    assertThat(
            Npy.parse(
                    npy(
                        3,
                        "{'descr': '|u1', 'fortran_order': False, 'shape': (2L,), }",
                        new byte[] {7, 8}),
                    "x")
                .toLongArray())
        .containsExactly(7, 8);
  }

  @Test
  void badInputIsRejectedWithTheSourceNamed() {
    String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    byte[] data = le(1, 2);
    assertThatThrownBy(
            () ->
                Npy.parse("PK\u0003\u0004 not npy".getBytes(StandardCharsets.ISO_8859_1), "in.npy"))
        .isInstanceOf(NpyFormatException.class)
        .hasMessage("in.npy: not a .npy file (bad magic string)");
    assertThatThrownBy(() -> Npy.parse(new byte[] {(byte) 0x93, 'N'}, "in.npy"))
        .hasMessageContaining("too short");
    byte[] good = npy(1, ok, data);
    assertThatThrownBy(() -> Npy.parse(Arrays.copyOf(good, good.length - 1), "in.npy"))
        .hasMessageContaining(
            "in.npy: shape (2,) of float32 needs 8 data bytes but the file holds 7 (truncated file?)");
    assertThatThrownBy(() -> Npy.parse(Arrays.copyOf(good, good.length + 4), "in.npy"))
        .hasMessageContaining("holds 12 (trailing bytes)");
    assertThatThrownBy(() -> Npy.parse(Arrays.copyOf(good, 40), "in.npy"))
        .hasMessageContaining("runs past the end");
    assertThatThrownBy(() -> Npy.parse(npy(1, ok.replace("<f4", "<c8"), data), "in.npy"))
        .hasMessageContaining("unsupported dtype '<c8'");
    assertThatThrownBy(() -> Npy.parse(npy(1, ok.replace("<f4", "|O"), data), "in.npy"))
        .hasMessageContaining("unsupported dtype '|O'");
    assertThatThrownBy(() -> Npy.parse(npy(1, ok.replace("False", "True"), data), "in.npy"))
        .hasMessageContaining("fortran_order True is not supported");
    assertThatThrownBy(
            () ->
                Npy.parse(
                    npy(1, ok.replace("(2,)", "(1099511627776, 1099511627776)"), data), "in.npy"))
        .hasMessageContaining("in.npy: declared shape (1099511627776, 1099511627776) overflows");
    assertThatThrownBy(
            () -> Npy.parse(npy(1, ok.replace("(2,)", "(1000000000000,)"), data), "in.npy"))
        .hasMessageContaining("needs more than 8 data bytes but the file holds 8");
    assertThatThrownBy(
            () ->
                Npy.parse(npy(1, ok.replace("(2,)", "(99999999999999999999999,)"), data), "in.npy"))
        .hasMessageContaining("too large");
    assertThatThrownBy(() -> Npy.parse(npy(1, "{'descr': '<f4', 'shape': (2,), }", data), "in.npy"))
        .hasMessageContaining("lacks 'fortran_order'");
    assertThatThrownBy(() -> Npy.parse(npy(1, ok.replace("}", "'extra': 1, }"), data), "in.npy"))
        .hasMessageContaining("unexpected header key 'extra'");
    assertThatThrownBy(
            () ->
                Npy.parse(
                    npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", data),
                    "in.npy"))
        .hasMessageContaining("malformed header");
    byte[] v9 = good.clone();
    v9[6] = 9;
    assertThatThrownBy(() -> Npy.parse(v9, "in.npy")).hasMessageContaining("version 9.0");
    // a v2 header length of 4 GiB in a small file
    byte[] huge = npy(2, ok, data);
    huge[8] = huge[9] = huge[10] = huge[11] = (byte) 0xff;
    assertThatThrownBy(() -> Npy.parse(huge, "in.npy")).hasMessageContaining("runs past the end");
  }

  @Test
  void filesAreNamedInErrors(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("x.npy");
    Tensor t = Tensor.ofLongs(new long[] {2}, 5, 6);
    Npy.write(f, t);
    assertThat(Npy.read(f)).isEqualTo(t);
    Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    assertThatThrownBy(() -> Npy.read(f))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageStartingWith(f.toString() + ": ");
  }

  @Test
  void writesVersionTwoWhenTheHeaderIsLong() {
    long[] shape = new long[25000]; // 3 header bytes per dim: more than 65535
    Arrays.fill(shape, 1);
    Tensor t = Tensor.ofFloats(shape, 1f);
    byte[] b = Npy.toBytes(t);
    assertThat(b[6]).isEqualTo((byte) 2);
    assertThat(Npy.parse(b, "long.npy")).isEqualTo(t);
    assertThatThrownBy(() -> Npy.toBytes(t, 1))
        .hasMessageContaining("does not fit npy version 1.0");
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      o.writeBytes(p);
    }
    return o.toByteArray();
  }
}
