package dev.halfbisect.trt;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TensorRT version a worker loaded (issue 19), read from its probe answer ({@code TensorRT
 * 10.6.0 on NVIDIA H200 ...}). TensorRT 11 removed weak typing, so the version decides what {@code
 * trt:fp16} can mean.
 */
public record TrtVersion(int major, int minor, int patch) {
  private static final Pattern IN_PROBE = Pattern.compile("TensorRT (\\d+)\\.(\\d+)(?:\\.(\\d+))?");

  /** The first {@code TensorRT X.Y[.Z]} in {@code text}; empty when there is none. */
  public static Optional<TrtVersion> find(String text) {
    if (text == null) {
      return Optional.empty();
    }
    Matcher m = IN_PROBE.matcher(text);
    if (!m.find()) {
      return Optional.empty();
    }
    return Optional.of(
        new TrtVersion(
            Integer.parseInt(m.group(1)),
            Integer.parseInt(m.group(2)),
            m.group(3) == null ? 0 : Integer.parseInt(m.group(3))));
  }

  /** Whether this TensorRT still has weak typing ({@code kFP16}, layer precision constraints). */
  public boolean hasWeakTyping() {
    return major < 11;
  }

  @Override
  public String toString() {
    return major + "." + minor + "." + patch;
  }
}
