package dev.halfbisect.core.backend;

import java.util.List;
import java.util.Map;

/**
 * An execution engine that builds a session for (model, {@link BuildOptions}) and runs it.
 * Implementations are found with {@link java.util.ServiceLoader} (see {@link Backends}); their
 * constructor and {@link #name()}/{@link #modes()} must not load native code, so that listing
 * backends is always safe. Natives load in {@link #availability()} or {@link #open}.
 */
public interface Backend {
  /** Short name used on the command line: {@code ort}, {@code trt}. */
  String name();

  /** Precision modes this backend builds, e.g. {@code fp32}, {@code fp16-emulated}. */
  List<String> modes();

  /** The mode used as the FP32 reference. */
  String referenceMode();

  /** The FP16 candidate mode that honours a {@link dev.halfbisect.core.plan.PrecisionPlan}. */
  String candidateMode();

  /**
   * Whether this backend can run here, probing natives if needed; never throws. The reason says
   * what is missing and how to install it.
   */
  Availability availability();

  /**
   * Builds a session.
   *
   * @throws BackendUnavailableException when the backend cannot run here (libraries, GPU missing)
   * @throws BackendException when the model cannot be built in this mode (the message says why)
   * @throws IllegalArgumentException for an unknown mode or an observed name the model lacks
   */
  BackendSession open(ModelRef model, BuildOptions options) throws BackendException;

  /**
   * The settings this backend reads from system properties that change what its builds compute (for
   * TensorRT, {@code halfbisect.trt.observedAs}): the facade adds them to the build properties, so
   * that probe journals and caches are keyed on them. None by default; loads nothing native.
   */
  default Map<String, String> buildSettings() {
    return Map.of();
  }
}
