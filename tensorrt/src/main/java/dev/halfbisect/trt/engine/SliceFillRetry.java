package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A weakly typed FP16 build that Myelin rejects over a Slice's fill value, and the retry that gets
 * round it. TensorRT 10.6's parser turns a constant-mode ONNX Pad into a Slice layer in fill mode;
 * when the graph around it is split by marked outputs (Swin-T's window Pads under {@code layerwise}
 * and {@code amplify}), Myelin stops with "Slice operation ..._slice has incorrect fill value type,
 * slice op requires fill value type to be same as its input" and then finds no implementation for
 * the node holding it. FP16-typed observation does not help (the GPU session of 2026-12-07).
 *
 * <p>The retry pins every float Slice and Padding layer to FP32, so input, fill and output share
 * one type. That is exact: these layers only copy and fill, an FP16 value widens to FP32 without
 * loss and narrows back unchanged, so the observed values are those of the FP16 engine. The build
 * carries a note saying so.
 */
public final class SliceFillRetry {
  /** The part of Myelin's message that identifies the failure. */
  public static final String MYELIN_MESSAGE = "incorrect fill value type";

  private static final Set<String> COPY_LAYERS = Set.of("kSLICE", "kPADDING");

  private SliceFillRetry() {}

  /** Whether a failed build in worker mode {@code mode} with these errors is worth the retry. */
  public static boolean applies(String mode, Collection<String> errors) {
    return mode.equals("fp16") && errors.stream().anyMatch(e -> e.contains(MYELIN_MESSAGE));
  }

  /**
   * The layers the retry pins: float Slice and Padding layers that {@code pinned} (the layer
   * indices the plan already constrains) does not hold.
   */
  public static ImmutableList<PrecisionConstraints.LayerConstraint> layers(
      List<NetworkLayer> network, Collection<Integer> pinned) {
    Set<Integer> taken = new HashSet<>(pinned);
    ImmutableList.Builder<PrecisionConstraints.LayerConstraint> out = ImmutableList.builder();
    for (NetworkLayer l : network) {
      if (!COPY_LAYERS.contains(l.type()) || taken.contains(l.index())) {
        continue;
      }
      ImmutableList<Integer> f = l.floatOutputIndexes();
      if (!f.isEmpty()) {
        out.add(new PrecisionConstraints.LayerConstraint(l.index(), l.name(), f));
      }
    }
    return out.build();
  }

  /** The build's note after a retry that pinned {@code count} layers. */
  public static String note(int count) {
    return "TensorRT's Myelin rejected a Slice's fill type in FP16 (\""
        + MYELIN_MESSAGE
        + "\"); built again with "
        + count
        + (count == 1 ? " Slice/Pad layer" : " Slice/Pad layers")
        + " in FP32, which is exact (they only copy and fill)";
  }
}
