package dev.halfbisect.core.backend;

import com.google.common.collect.ImmutableMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Finds {@link Backend} implementations on the class path with {@link ServiceLoader}. Listing loads
 * no native code (see the contract on {@link Backend}).
 */
public final class Backends {
  private Backends() {}

  /** All backends on the class path, by name. */
  public static ImmutableMap<String, Backend> all() {
    Map<String, Backend> byName = new TreeMap<>();
    for (Backend b : ServiceLoader.load(Backend.class, Backends.class.getClassLoader())) {
      byName.putIfAbsent(b.name(), b);
    }
    return ImmutableMap.copyOf(byName);
  }

  /**
   * The backend named {@code name}.
   *
   * @throws IllegalArgumentException naming the backends that exist
   */
  public static Backend get(String name) {
    ImmutableMap<String, Backend> all = all();
    Backend b = all.get(name);
    if (b == null) {
      throw new IllegalArgumentException(
          "unknown backend '"
              + name
              + "'; available: "
              + (all.isEmpty()
                  ? "none (no backend module on the class path)"
                  : String.join(", ", all.keySet())));
    }
    return b;
  }

  /**
   * Resolves a spec to its backend and checks the mode.
   *
   * @throws IllegalArgumentException for an unknown backend or mode
   */
  public static Backend resolve(BackendSpec spec) {
    Backend b = get(spec.backend());
    if (!b.modes().contains(spec.mode())) {
      throw new IllegalArgumentException(
          "backend '"
              + spec.backend()
              + "' has no mode '"
              + spec.mode()
              + "'; modes: "
              + String.join(", ", b.modes()));
    }
    return b;
  }
}
