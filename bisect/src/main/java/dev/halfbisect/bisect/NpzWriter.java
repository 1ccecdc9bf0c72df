package dev.halfbisect.bisect;

import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes tensors as a NumPy {@code .npz} (a zip of {@code .npy} version 1.0 files), the format a
 * bug report's inputs go in. Kept small and local until core's {@code data.Npz} is available here.
 */
final class NpzWriter {
  private NpzWriter() {}

  static void write(Path file, Map<String, Tensor> tensors) throws IOException {
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
        writeNpy(zip, e.getValue());
        zip.closeEntry();
      }
    }
  }

  static void writeNpy(OutputStream out, Tensor t) throws IOException {
    StringBuilder shape = new StringBuilder("(");
    long[] s = t.shape();
    for (int i = 0; i < s.length; i++) {
      shape.append(s[i]).append(s.length == 1 || i < s.length - 1 ? "," : "");
      if (i < s.length - 1) {
        shape.append(' ');
      }
    }
    shape.append(')');
    String dict = "{'descr': '" + t.dtype().npyDescr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int unpadded = 10 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    int len = header.length();
    out.write(new byte[] {(byte) (len & 0xff), (byte) (len >> 8)});
    out.write(header.getBytes(StandardCharsets.US_ASCII));
    ByteBuffer data = t.bytes();
    byte[] bytes = new byte[data.remaining()];
    data.duplicate().get(bytes);
    out.write(bytes);
  }
}
