package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import java.util.Optional;
import javax.annotation.Nullable;

/**
 * How {@link OnnxModel#save(java.nio.file.Path, SaveOptions)} stores tensor data: all inline in the
 * {@code .onnx} file (the default; protobuf caps a file at 2 GB), or every initializer of at least
 * {@link #sizeThreshold()} bytes in one external data file next to the model, each at an offset
 * aligned to {@link #alignment()} bytes so it can be memory-mapped directly.
 */
public final class SaveOptions {
  /**
   * Default threshold: tensors below 1 KiB stay inline (shape constants, biases of tiny layers).
   */
  public static final long DEFAULT_SIZE_THRESHOLD = 1024;

  /** Default alignment of external tensors: a page, so each tensor maps without an offset. */
  public static final int DEFAULT_ALIGNMENT = 4096;

  private final boolean external;
  private final String dataFileName;
  private final long sizeThreshold;
  private final int alignment;

  private SaveOptions(
      boolean external, @Nullable String dataFileName, long sizeThreshold, int alignment) {
    this.external = external;
    this.dataFileName = dataFileName;
    this.sizeThreshold = sizeThreshold;
    this.alignment = alignment;
  }

  /** Every tensor inline; external data of the source model is read and embedded. */
  public static SaveOptions inline() {
    return new SaveOptions(false, null, 0, 1);
  }

  /**
   * External data in {@code <model file name>.data} next to the model, default threshold and
   * alignment.
   */
  public static SaveOptions external() {
    return new SaveOptions(true, null, DEFAULT_SIZE_THRESHOLD, DEFAULT_ALIGNMENT);
  }

  /** External data in the named file (a plain file name, no folders) next to the model. */
  public static SaveOptions external(String dataFileName) {
    checkFileName(dataFileName);
    return new SaveOptions(true, dataFileName, DEFAULT_SIZE_THRESHOLD, DEFAULT_ALIGNMENT);
  }

  /** Same options with another threshold: tensors of at least this many bytes go external. */
  public SaveOptions withSizeThreshold(long bytes) {
    Preconditions.checkArgument(bytes >= 0, "size threshold must be >= 0, got %s", bytes);
    return new SaveOptions(external, dataFileName, bytes, alignment);
  }

  /** Same options with another alignment (a power of two) of external tensor offsets. */
  public SaveOptions withAlignment(int bytes) {
    Preconditions.checkArgument(
        bytes > 0 && Integer.bitCount(bytes) == 1,
        "alignment must be a power of two, got %s",
        bytes);
    return new SaveOptions(external, dataFileName, sizeThreshold, bytes);
  }

  public boolean isExternal() {
    return external;
  }

  /** The data file name; empty means {@code <model file name>.data}. */
  public Optional<String> dataFileName() {
    return Optional.ofNullable(dataFileName);
  }

  public long sizeThreshold() {
    return sizeThreshold;
  }

  public int alignment() {
    return alignment;
  }

  private static void checkFileName(String name) {
    Preconditions.checkNotNull(name, "dataFileName");
    Preconditions.checkArgument(
        !name.isEmpty()
            && !name.contains("/")
            && !name.contains("\\")
            && !name.equals(".")
            && !name.equals(".."),
        "external data file name must be a plain file name next to the model, got '%s'",
        name);
  }

  @Override
  public String toString() {
    return external
        ? "external("
            + (dataFileName == null ? "<model>.data" : dataFileName)
            + ", threshold="
            + sizeThreshold
            + ", alignment="
            + alignment
            + ")"
        : "inline";
  }
}
