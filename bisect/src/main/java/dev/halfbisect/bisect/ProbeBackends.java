package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BuildOptions;

/**
 * The two runs every probe compares: the reference backend with its build options (e.g. {@code
 * fp32}) and the candidate backend with its build options (e.g. {@code fp16-emulated}; its plan is
 * the base every search adds pins to).
 */
public record ProbeBackends(
    Backend reference,
    BuildOptions referenceOptions,
    Backend candidate,
    BuildOptions candidateOptions) {
  public ProbeBackends {
    Preconditions.checkNotNull(reference, "reference");
    Preconditions.checkNotNull(referenceOptions, "referenceOptions");
    Preconditions.checkNotNull(candidate, "candidate");
    Preconditions.checkNotNull(candidateOptions, "candidateOptions");
  }

  /** The backend of {@code side}. */
  public Backend backend(ProbeSpec.Side side) {
    return side == ProbeSpec.Side.CANDIDATE ? candidate : reference;
  }

  /** The build options of {@code side}. */
  public BuildOptions options(ProbeSpec.Side side) {
    return side == ProbeSpec.Side.CANDIDATE ? candidateOptions : referenceOptions;
  }

  /** {@code backend:mode} of the reference, e.g. {@code ort:fp32}. */
  public String referenceLabel() {
    return reference.name() + ":" + referenceOptions.mode();
  }

  /** {@code backend:mode} of the candidate, e.g. {@code ort:fp16-emulated}. */
  public String candidateLabel() {
    return candidate.name() + ":" + candidateOptions.mode();
  }
}
