package dev.halfbisect.core.backend;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * What to build: the precision mode, the {@link PrecisionPlan} applied in FP16 modes, and the ONNX
 * tensors to observe besides the graph outputs. Immutable; equal options over the same model give
 * the same session, which backends may cache.
 */
public record BuildOptions(
    String mode,
    PrecisionPlan plan,
    ImmutableList<String> observed,
    ImmutableMap<String, String> properties) {

  public BuildOptions {
    Preconditions.checkArgument(mode != null && !mode.isBlank(), "mode must be given");
    Preconditions.checkNotNull(plan, "plan");
    observed = ImmutableList.copyOf(new LinkedHashSet<>(observed)); // de-duplicated, order kept
    properties = ImmutableMap.copyOf(properties);
  }

  /**
   * Property: how many builds the caller may run at once (its probe parallelism). A backend that
   * builds in worker processes may start that many; it is not part of what is built, so probe and
   * reference keys leave it out ({@link #identityProperties()}).
   */
  public static final String CONCURRENT_BUILDS = "halfbisect.concurrentBuilds";

  /** {@link #CONCURRENT_BUILDS}, 1 when absent or not a positive number. */
  public int concurrentBuilds() {
    try {
      return Math.max(1, Integer.parseInt(properties.getOrDefault(CONCURRENT_BUILDS, "1").trim()));
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  /** The properties that shape what is built: all but {@link #CONCURRENT_BUILDS}. */
  public ImmutableMap<String, String> identityProperties() {
    return ImmutableMap.copyOf(
        com.google.common.collect.Maps.filterKeys(properties, k -> !k.equals(CONCURRENT_BUILDS)));
  }

  public static BuildOptions of(String mode) {
    return new BuildOptions(mode, PrecisionPlan.allFp16(), ImmutableList.of(), ImmutableMap.of());
  }

  public static BuildOptions of(String mode, PrecisionPlan plan) {
    return new BuildOptions(mode, plan, ImmutableList.of(), ImmutableMap.of());
  }

  public BuildOptions withPlan(PrecisionPlan p) {
    return new BuildOptions(mode, p, observed, properties);
  }

  /** These options observing exactly {@code names} (plus the graph outputs, always returned). */
  public BuildOptions withObserved(Collection<String> names) {
    return new BuildOptions(mode, plan, ImmutableList.copyOf(names), properties);
  }

  public BuildOptions withProperty(String key, String value) {
    return new BuildOptions(
        mode,
        plan,
        observed,
        ImmutableMap.<String, String>builder()
            .putAll(properties)
            .put(key, value)
            .buildKeepingLast());
  }

  public BuildOptions withProperties(Map<String, String> props) {
    return new BuildOptions(
        mode,
        plan,
        observed,
        ImmutableMap.<String, String>builder().putAll(properties).putAll(props).buildKeepingLast());
  }
}
