package dev.halfbisect.ort;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.backend.BuildOptions;
import java.util.Locale;
import java.util.Map;

/**
 * The ONNX Runtime session settings a {@link BuildOptions} asks for: intra-op threads ({@code
 * ort.threads}, default: the available processors shared among the {@link
 * BuildOptions#CONCURRENT_BUILDS} sessions that run at once) and graph optimization level ({@code
 * ort.optLevel}: {@code none}, {@code basic}, {@code extended}, {@code layout}, {@code all};
 * default per mode, see {@link OrtBackend}). With sessions side by side their idle intra-op threads
 * do not spin ({@code spinning} false): four sessions of sixteen spinning threads each on sixteen
 * cores starve one another.
 */
record OrtSettings(int intraOpThreads, OptLevel optLevel, boolean spinning) {
  static final String THREADS = "ort.threads";
  static final String OPT_LEVEL = "ort.optLevel";

  private static final ImmutableMap<String, OptLevel> LEVELS =
      ImmutableMap.<String, OptLevel>builder()
          .put("none", OptLevel.NO_OPT)
          .put("no_opt", OptLevel.NO_OPT)
          .put("basic", OptLevel.BASIC_OPT)
          .put("basic_opt", OptLevel.BASIC_OPT)
          .put("extended", OptLevel.EXTENDED_OPT)
          .put("extended_opt", OptLevel.EXTENDED_OPT)
          .put("layout", OptLevel.LAYOUT_OPT)
          .put("layout_opt", OptLevel.LAYOUT_OPT)
          .put("all", OptLevel.ALL_OPT)
          .put("all_opt", OptLevel.ALL_OPT)
          .buildOrThrow();

  /**
   * Reads the settings from {@code options.properties()}.
   *
   * @throws IllegalArgumentException for a malformed thread count or unknown level, naming the
   *     property
   */
  static OrtSettings from(BuildOptions options, OptLevel defaultLevel) {
    Map<String, String> p = options.properties();
    int concurrent = options.concurrentBuilds();
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / concurrent);
    String t = p.get(THREADS);
    if (t != null) {
      try {
        threads = Integer.parseInt(t.trim());
      } catch (NumberFormatException e) {
        threads = -1;
      }
      if (threads < 1) {
        throw new IllegalArgumentException(
            "property " + THREADS + " must be a positive integer, got '" + t + "'");
      }
    }
    OptLevel level = defaultLevel;
    String l = p.get(OPT_LEVEL);
    if (l != null) {
      level = LEVELS.get(l.trim().toLowerCase(Locale.ROOT));
      if (level == null) {
        throw new IllegalArgumentException(
            "property "
                + OPT_LEVEL
                + " has unknown value '"
                + l
                + "'; expected one of none, basic, extended, layout, all");
      }
    }
    return new OrtSettings(threads, level, concurrent == 1);
  }
}
