package dev.halfbisect.onnx;

import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import javax.annotation.Nullable;

/**
 * A validated external-data reference of one tensor: the file (inside the model folder), offset and
 * length. Validation only looks at paths and file sizes; payload bytes are read on demand through a
 * read-only memory map, so indexing a model never touches tensor data.
 */
final class ExternalDataRef {
  /** The largest piece mapped at once: a MappedByteBuffer is int-indexed. */
  static final long MAX_MAP_BYTES = 1L << 30;

  private final String tensorName;
  private final String location;
  private final Path file;
  private final long offset;
  private final long length;

  private ExternalDataRef(String tensorName, String location, Path file, long offset, long length) {
    this.tensorName = tensorName;
    this.location = location;
    this.file = file;
    this.offset = offset;
    this.length = length;
  }

  static boolean isExternal(Onnx.TensorProto t) {
    return t.hasDataLocation() && t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL;
  }

  /**
   * Resolves and checks the reference of {@code t} against {@code baseDir}.
   *
   * @throws ExternalDataException naming the tensor and location when the reference is unusable
   */
  static ExternalDataRef resolve(Onnx.TensorProto t, @Nullable Path baseDir) {
    String name = t.getName();
    String location = null;
    long offset = 0;
    long length = -1;
    for (Onnx.StringStringEntryProto e : t.getExternalDataList()) {
      switch (e.getKey()) {
        case "location":
          location = e.getValue();
          break;
        case "offset":
          offset = parseNonNegative(name, location, "offset", e.getValue());
          break;
        case "length":
          length = parseNonNegative(name, location, "length", e.getValue());
          break;
        default:
          break; // checksum and future keys are not needed to read the data
      }
    }
    if (location == null || location.isEmpty()) {
      throw new ExternalDataException(
          "tensor '" + name + "' is marked EXTERNAL but has no 'location' entry");
    }
    if (baseDir == null) {
      throw new ExternalDataException(
          "tensor '"
              + name
              + "' has external data at '"
              + location
              + "' but the model has no folder to resolve it against (load it from a file or pass baseDir)");
    }
    Path relative;
    try {
      relative = Path.of(location.replace('\\', '/'));
    } catch (InvalidPathException e) {
      throw new ExternalDataException(
          "tensor '"
              + name
              + "': external data location '"
              + location
              + "' is not a valid path: "
              + e.getMessage());
    }
    if (location.startsWith("/")
        || location.startsWith("\\")
        || location.matches("^[A-Za-z]:.*")
        || relative.isAbsolute()) {
      throw new ExternalDataException(
          "tensor '"
              + name
              + "': external data location '"
              + location
              + "' is absolute; ONNX requires a path relative to the model folder");
    }
    Path base = baseDir.toAbsolutePath().normalize();
    Path file = base.resolve(relative).normalize();
    if (!file.startsWith(base) || file.equals(base)) {
      throw new ExternalDataException(
          "tensor '"
              + name
              + "': external data location '"
              + location
              + "' escapes the model folder "
              + base);
    }
    if (!Files.isRegularFile(file)) {
      throw new ExternalDataException(
          "tensor '" + name + "': external data file '" + location + "' does not exist in " + base);
    }
    long fileSize;
    try {
      Path realBase = base.toRealPath();
      Path realFile = file.toRealPath();
      if (!realFile.startsWith(realBase)) {
        throw new ExternalDataException(
            "tensor '"
                + name
                + "': external data location '"
                + location
                + "' is a link to "
                + realFile
                + ", outside the model folder "
                + realBase);
      }
      fileSize = Files.size(realFile);
      file = realFile;
    } catch (IOException e) {
      throw new ExternalDataException(
          "tensor '"
              + name
              + "': cannot inspect external data file '"
              + location
              + "': "
              + e.getMessage(),
          e);
    }
    if (offset > fileSize) {
      throw new ExternalDataException(
          "tensor '"
              + name
              + "': external data offset "
              + offset
              + " is beyond the end of '"
              + location
              + "' ("
              + fileSize
              + " bytes)");
    }
    if (length < 0) {
      length = fileSize - offset;
    } else if (length > fileSize - offset) {
      throw new ExternalDataException(
          "tensor '"
              + name
              + "': external data offset "
              + offset
              + " + length "
              + length
              + " is beyond the end of '"
              + location
              + "' ("
              + fileSize
              + " bytes)");
    }
    return new ExternalDataRef(name, location, file, offset, length);
  }

  private static long parseNonNegative(
      String tensor, @Nullable String location, String key, String value) {
    long v;
    try {
      v = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new ExternalDataException(
          "tensor '"
              + tensor
              + "': external data "
              + key
              + " '"
              + value
              + "' is not an integer"
              + (location != null ? " (location '" + location + "')" : ""));
    }
    if (v < 0) {
      throw new ExternalDataException(
          "tensor '"
              + tensor
              + "': external data "
              + key
              + " "
              + v
              + " is negative"
              + (location != null ? " (location '" + location + "')" : ""));
    }
    return v;
  }

  String location() {
    return location;
  }

  Path file() {
    return file;
  }

  long offset() {
    return offset;
  }

  long length() {
    return length;
  }

  /**
   * Maps {@code count} bytes starting {@code from} bytes into this tensor's data, read-only and
   * little-endian. {@code count} must be at most {@link #MAX_MAP_BYTES}.
   */
  ByteBuffer map(long from, long count) {
    if (from < 0 || count < 0 || from + count > length || count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "bad slice " + from + "+" + count + " of " + length + " bytes");
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return ch.map(FileChannel.MapMode.READ_ONLY, offset + from, count)
          .order(ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      throw new ExternalDataException(
          "tensor '"
              + tensorName
              + "': cannot read external data '"
              + location
              + "': "
              + e.getMessage(),
          e);
    }
  }
}
