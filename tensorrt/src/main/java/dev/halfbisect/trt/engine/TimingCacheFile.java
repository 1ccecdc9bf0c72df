package dev.halfbisect.trt.engine;

import dev.halfbisect.core.io.SafeFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a TensorRT timing cache lives on disk and how it is written. Caches hold kernel timings of
 * one GPU model with one TensorRT version, so the file name carries GPU name, compute capability
 * and TensorRT version. Writes go to a temporary file in the same folder and are then moved over
 * the old file atomically, so concurrent workers never read a half-written cache.
 */
public final class TimingCacheFile {
  private final Path file;

  private TimingCacheFile(Path file) {
    this.file = file;
  }

  public static TimingCacheFile of(
      Path dir, String gpuName, int ccMajor, int ccMinor, String trtVersion) {
    return new TimingCacheFile(dir.resolve(fileName(gpuName, ccMajor, ccMinor, trtVersion)));
  }

  /**
   * {@code nvidia-h100-80gb-hbm3_sm90_trt10.6.0.timing-cache}: lower case, safe characters only.
   */
  public static String fileName(String gpuName, int ccMajor, int ccMinor, String trtVersion) {
    String gpu =
        gpuName
            .trim()
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9.]+", "-")
            .replaceAll("^-|-$", "");
    String trt = trtVersion.replaceAll("[^0-9A-Za-z.]+", "-");
    return (gpu.isEmpty() ? "gpu" : gpu)
        + "_sm"
        + ccMajor
        + ccMinor
        + "_trt"
        + trt
        + ".timing-cache";
  }

  public Path path() {
    return file;
  }

  /** The cache bytes, or empty when there is no file yet. */
  public Optional<byte[]> read() throws IOException {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    return Optional.of(Files.readAllBytes(file));
  }

  /** Replaces the file with {@code bytes} atomically ({@link SafeFiles}: temp file + rename). */
  public void write(byte[] bytes) throws IOException {
    SafeFiles.write(file, bytes);
  }
}
