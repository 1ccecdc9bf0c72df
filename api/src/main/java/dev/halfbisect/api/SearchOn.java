package dev.halfbisect.api;

import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.backend.BackendSpec;
import java.util.Locale;

/**
 * Where {@code precision} searches (issue 18). A TensorRT build takes seconds to a minute; FP16
 * emulation on ONNX Runtime ({@code ort:fp16-emulated}) decides a probe in a fraction of that, so
 * the search can run there and spend candidate builds only to confirm its plan and make it
 * 1-minimal on the candidate (or search the candidate itself where the candidate disagrees).
 */
public enum SearchOn {
  /** Emulation first when the candidate is TensorRT ({@code trt}); the candidate otherwise. */
  AUTO,
  /** Emulation first whatever the candidate (unless the candidate is the emulation itself). */
  EMULATION,
  /** Every probe on the candidate. */
  CANDIDATE;

  /**
   * The emulation that computes as {@code candidate} does: the same low-precision type (FP16 or
   * BF16) and the same typing (a {@code -strong} candidate runs the Cast-placed model, so its
   * emulation does too). Searching a BF16 candidate on FP16 emulation would pin FP16's overflows,
   * which BF16 does not have. FP16 emulations accumulate MatMuls in FP16 ({@code -acc16}): on
   * MiniLM on an H200, TensorRT 10.6's errors under eight plans, weak and strongly typed, were
   * 0.99x to 1.10x those of the accumulating emulations and 1.30x to 1.86x those of the storage
   * ones, whose plans TensorRT then failed (docs/PERFORMANCE.md, the fifth GPU session).
   */
  public static BackendSpec matchingEmulation(BackendSpec candidate) {
    String mode = candidate.mode() == null ? "" : candidate.mode();
    LowPrecision type = LowPrecision.ofMode(mode);
    boolean strong = mode.toLowerCase(Locale.ROOT).contains("strong");
    return new BackendSpec(
        "ort",
        type.id()
            + (strong ? "-strong" : "")
            + (type == LowPrecision.FP16 ? "-acc16" : "")
            + "-emulated");
  }

  /** Whether a search with candidate {@code candidate} runs on {@code emulation} first. */
  public boolean emulationFirst(BackendSpec candidate, BackendSpec emulation) {
    if (candidate.equals(emulation)) {
      return false;
    }
    return switch (this) {
      case AUTO -> candidate.backend().equals("trt");
      case EMULATION -> true;
      case CANDIDATE -> false;
    };
  }

  /** The CLI spelling: {@code auto}, {@code emulation}, {@code candidate}. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the CLI spelling. */
  public static SearchOn parse(String text) {
    for (SearchOn s : values()) {
      if (s.cliName().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "search side must be auto, emulation or candidate, got '" + text + "'");
  }
}
