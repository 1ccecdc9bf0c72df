package dev.halfbisect.trt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Which TensorRT/CUDA/bytedeco libraries are mapped into this process (Linux /proc/self/maps). */
final class NativeMaps {
  private NativeMaps() {}

  static boolean readable() {
    return Files.isReadable(Path.of("/proc/self/maps"));
  }

  /**
   * The mapping lines naming nvinfer, nvonnxparser, cudart or javacpp's JNI glue; empty when none.
   */
  static String tensorRtLibraries() throws IOException {
    StringBuilder hits = new StringBuilder();
    for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
      if (line.contains("nvinfer")
          || line.contains("cudart")
          || line.contains("jnijavacpp")
          || line.contains("nvonnxparser")) {
        hits.append(line).append('\n');
      }
    }
    return hits.toString();
  }
}
