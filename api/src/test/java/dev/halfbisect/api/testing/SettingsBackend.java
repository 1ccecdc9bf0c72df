package dev.halfbisect.api.testing;

import dev.halfbisect.bisect.testing.InterpreterLikeBackend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Backend {@code settings}: the interpreter with a setting of its own read from the system property
 * {@value #PROPERTY}, as TensorRT reads {@code halfbisect.trt.observedAs} ({@link
 * dev.halfbisect.core.backend.Backend#buildSettings}); it records the properties each low-precision
 * build was opened with.
 */
public final class SettingsBackend extends InterpreterLikeBackend {
  public static final String PROPERTY = "halfbisect.test.setting";

  /** The properties of each FP16 build, in order. */
  public static final List<Map<String, String>> FP16_BUILDS =
      Collections.synchronizedList(new ArrayList<>());

  @Override
  public String name() {
    return "settings";
  }

  @Override
  public Map<String, String> buildSettings() {
    String v = System.getProperty(PROPERTY);
    return v == null ? Map.of() : Map.of(PROPERTY, v);
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    if (!options.mode().equals(referenceMode())) {
      FP16_BUILDS.add(options.properties());
    }
    return interp.open(model, options);
  }
}
