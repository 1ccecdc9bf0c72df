package dev.halfbisect.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes a small .npz the way numpy.savez does (stored .npy entries, version 1.0 headers). */
final class NpzFixture {
  private NpzFixture() {}

  static void writeFloatNpz(Path file, String name, long[] shape, float value) throws IOException {
    int n = 1;
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      n *= (int) d;
      dims.append(d).append(", ");
    }
    String header =
        "{'descr': '<f4', 'fortran_order': False, 'shape': ("
            + dims.toString().replaceAll(", $", shape.length == 1 ? "," : "")
            + "), }";
    int total = 10 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    header = header + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1));
    for (int i = 0; i < n; i++) {
      b.putFloat(value);
    }
    try (OutputStream os = Files.newOutputStream(file);
        ZipOutputStream zip = new ZipOutputStream(os)) {
      zip.putNextEntry(new ZipEntry(name + ".npy"));
      zip.write(b.array());
      zip.closeEntry();
    }
  }
}
