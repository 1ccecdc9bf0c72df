package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The type a weakly typed FP16 build gives the tensors it marks as outputs only to observe them
 * ({@code halfbisect.trt.observedAs}). A marked output keeps its declared type, FP32, by default,
 * as Polygraphy's {@code mark all} does: its layer then writes FP32 where the unmarked engine
 * writes FP16. Under {@link Mode#FP16} a marked float tensor is typed FP16 unless its layer is
 * pinned to FP32, so the layer writes what it writes without the mark, and the observed value is
 * the one the next layer reads. (It does not get Swin-T's observed FP16 builds through Myelin's Pad
 * Slice error, and neither did pinning every Slice/Padding layer to FP32: docs/reliability.md.)
 */
public final class ObservedTypes {
  /** The build property naming the mode. */
  public static final String PROPERTY = "halfbisect.trt.observedAs";

  /** How marked tensors are typed. */
  public enum Mode {
    /** Declared type (FP32): Polygraphy's behaviour, the default. */
    FP32,
    /** FP16 for float tensors of layers not pinned to FP32. */
    FP16;

    /** {@code fp32} or {@code fp16} (any case); null or blank is the default. */
    public static Mode parse(String value) {
      if (value == null || value.isBlank()) {
        return FP32;
      }
      switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "fp32":
          return FP32;
        case "fp16":
          return FP16;
        default:
          throw new IllegalArgumentException(
              PROPERTY + " must be fp32 or fp16, got '" + value.trim() + "'");
      }
    }
  }

  /** A tensor the build marked as an output to observe it. */
  public record Marked(String tensor, int layerIndex, boolean isFloat) {}

  private ObservedTypes() {}

  /**
   * The marked tensors to type FP16: none under {@link Mode#FP32}; under {@link Mode#FP16} the
   * float ones whose layer is not among {@code fp32Layers} (the layers pinned to FP32, and those
   * that write FP32 whatever the flags: {@link Fp32Carriers}), in the order given.
   */
  public static ImmutableList<String> halfTyped(
      Mode mode, Collection<Marked> marked, Collection<Integer> fp32Layers) {
    if (mode == Mode.FP32) {
      return ImmutableList.of();
    }
    Set<Integer> fp32 = new HashSet<>(fp32Layers);
    ImmutableList.Builder<String> out = ImmutableList.builder();
    for (Marked m : marked) {
      if (m.isFloat() && !fp32.contains(m.layerIndex())) {
        out.add(m.tensor());
      }
    }
    return out.build();
  }
}
