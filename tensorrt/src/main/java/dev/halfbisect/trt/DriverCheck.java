package dev.halfbisect.trt;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Decides, without starting a worker JVM or loading anything, that TensorRT cannot run here: not
 * Linux, or no NVIDIA kernel driver ({@code /proc/driver/nvidia/version} and {@code /dev/nvidiactl}
 * both missing). Resolving the default backends on a CPU-only machine then starts no worker and
 * logs no libcuda warning (issue 17). {@code -Dhalfbisect.trt.skipDriverCheck=true} skips it, for
 * drivers exposed elsewhere.
 */
final class DriverCheck {
  static final String SKIP_PROPERTY = "halfbisect.trt.skipDriverCheck";

  private DriverCheck() {}

  /** Why TensorRT cannot run on this machine, or null when a worker should be asked. */
  static String problem() {
    if (Boolean.getBoolean(SKIP_PROPERTY)) {
      return null;
    }
    return problem(
        System.getProperty("os.name", ""),
        Path.of("/proc/driver/nvidia/version"),
        Path.of("/dev/nvidiactl"));
  }

  static String problem(String osName, Path procDriver, Path controlDevice) {
    if (!osName.toLowerCase(Locale.ROOT).startsWith("linux")) {
      return "the TensorRT backend runs on Linux x86_64 only (this is " + osName + ")";
    }
    if (!Files.exists(procDriver) && !Files.exists(controlDevice)) {
      return "no NVIDIA driver on this machine ("
          + procDriver
          + " and "
          + controlDevice
          + " are missing; no GPU, or the container was started without one)";
    }
    return null;
  }
}
