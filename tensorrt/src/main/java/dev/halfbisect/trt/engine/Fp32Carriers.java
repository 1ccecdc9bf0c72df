package dev.halfbisect.trt.engine;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layers of a weakly typed network whose observed outputs keep FP32 under {@link
 * ObservedTypes.Mode#FP16}: layers that move data without computing (Shuffle, Slice, Concatenation,
 * ...) carry their input's type, so one whose float inputs all come from layers pinned to FP32,
 * from network inputs or from other such layers is given FP32 by TensorRT's type inference. Typing
 * its marked output FP16 asks it to change type, and TensorRT rejected that ("Mismatched type for
 * tensor ..._output_0__shadow, f16 vs. expected type: f32": Swin-T's amplify shadow build, whose
 * copies read the pinned originals' FP32 tensors, 2026-12-07). The values are the same either way:
 * moving data does not round it.
 */
public final class Fp32Carriers {
  /**
   * TensorRT layer types ({@code LayerType} names) whose output has their data input's type (a Cast
   * is not one: it writes the type it names).
   */
  static final ImmutableSet<String> MOVERS =
      ImmutableSet.of(
          "kSHUFFLE", "kSLICE", "kCONCATENATION", "kGATHER", "kSCATTER", "kPADDING", "kIDENTITY");

  /** One layer's data flow: its type name and the tensors it reads (float ones only). */
  public record Flow(int layerIndex, String type, ImmutableList<String> floatInputs) {
    public Flow {
      floatInputs = ImmutableList.copyOf(floatInputs);
    }
  }

  private Fp32Carriers() {}

  /**
   * The indexes of the layers whose float inputs are all FP32 and that only move them.
   *
   * @param flows every layer, in the network's (topological) order
   * @param producers for each tensor a layer writes, that layer's index; a tensor not in it is a
   *     network input, declared FP32 when it is float
   * @param pinned the layers pinned to FP32
   */
  public static ImmutableSet<Integer> of(
      List<Flow> flows, Map<String, Integer> producers, Collection<Integer> pinned) {
    Set<Integer> fp32 = new HashSet<>(pinned);
    ImmutableSet.Builder<Integer> carriers = ImmutableSet.builder();
    for (Flow f : flows) {
      if (!MOVERS.contains(f.type()) || f.floatInputs().isEmpty()) {
        continue;
      }
      boolean allFp32 = true;
      for (String in : f.floatInputs()) {
        Integer producer = producers.get(in);
        if (producer != null && !fp32.contains(producer)) {
          allFp32 = false;
          break;
        }
      }
      if (allFp32) {
        fp32.add(f.layerIndex());
        carriers.add(f.layerIndex());
      }
    }
    return carriers.build();
  }
}
