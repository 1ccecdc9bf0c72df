package dev.halfbisect.core.backend;

import com.google.common.base.Preconditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The ONNX model a backend builds: a file, or serialized bytes (a probe made by surgery) together
 * with the folder its external data lives in. {@link #name()} is for messages and reports.
 */
public final class ModelRef {
  private final String name;
  private final Path path;
  private final byte[] bytes;
  private final Path baseDir;

  private ModelRef(String name, Path path, byte[] bytes, Path baseDir) {
    this.name = name;
    this.path = path;
    this.bytes = bytes;
    this.baseDir = baseDir;
  }

  /** A model file; external data is resolved next to it. */
  public static ModelRef ofPath(Path path) {
    Preconditions.checkNotNull(path, "path");
    Path abs = path.toAbsolutePath().normalize();
    return new ModelRef(path.toString(), abs, null, abs.getParent());
  }

  /**
   * Serialized model bytes (not copied: the caller must not change them). {@code baseDir} is where
   * external data of its initializers is resolved; may be null when there is none.
   */
  public static ModelRef ofBytes(String name, byte[] bytes, Path baseDir) {
    Preconditions.checkNotNull(bytes, "bytes");
    return new ModelRef(name, null, bytes, baseDir);
  }

  public String name() {
    return name;
  }

  public Optional<Path> path() {
    return Optional.ofNullable(path);
  }

  public Optional<Path> baseDir() {
    return Optional.ofNullable(baseDir);
  }

  /** Serialized bytes, read from the file if this is a path reference. */
  public byte[] bytes() throws IOException {
    return bytes != null ? bytes : Files.readAllBytes(path);
  }

  /** Whether this reference holds bytes in memory. */
  public boolean inMemory() {
    return bytes != null;
  }

  @Override
  public String toString() {
    return name;
  }
}
