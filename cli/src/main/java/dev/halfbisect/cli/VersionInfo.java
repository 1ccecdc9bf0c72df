package dev.halfbisect.cli;

import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code halfbisect --version}: the halfbisect version, the Java runtime, and every backend on the
 * class path with what its availability check found (issue 17): e.g. {@code ort ONNX Runtime 1.29.0
 * (CPU)}, {@code trt TensorRT 10.6.0 on NVIDIA H200} or {@code trt not available: ...}. Checking
 * TensorRT starts a worker only where an NVIDIA driver exists.
 */
final class VersionInfo implements IVersionProvider {
  @Override
  public String[] getVersion() {
    List<String> lines = new ArrayList<>();
    lines.add("halfbisect " + projectVersion());
    lines.add(
        "Java "
            + System.getProperty("java.version")
            + " ("
            + System.getProperty("java.vm.name")
            + ", "
            + System.getProperty("os.name")
            + " "
            + System.getProperty("os.arch")
            + ")");
    lines.add("backends:");
    for (Map.Entry<String, Backend> e : Backends.all().entrySet()) {
      lines.add(String.format("  %-6s %s", e.getKey(), describe(e.getValue())));
    }
    return lines.toArray(String[]::new);
  }

  static String describe(Backend b) {
    Availability a;
    try {
      a = b.availability();
    } catch (RuntimeException | LinkageError e) {
      return "not available: " + e;
    }
    String modes = " [modes: " + String.join(", ", b.modes()) + "]";
    return a.available() ? a.reason() + modes : "not available: " + a.reason();
  }

  /** The Maven version, from a resource the build filters. */
  static String projectVersion() {
    try (InputStream in = VersionInfo.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "(unknown version)";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "(unknown version)");
    } catch (IOException e) {
      return "(unknown version)";
    }
  }
}
