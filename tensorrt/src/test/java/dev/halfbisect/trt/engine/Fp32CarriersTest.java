package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.trt.engine.Fp32Carriers.Flow;
import dev.halfbisect.trt.engine.ObservedTypes.Marked;
import dev.halfbisect.trt.engine.ObservedTypes.Mode;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class Fp32CarriersTest {
  // amplify's shadow build in small: MatMul (pinned) writes a; its shadow copies read a
  private final List<Flow> flows =
      List.of(
          new Flow(0, "kMATRIX_MULTIPLY", ImmutableList.of("x")),
          new Flow(1, "kSHUFFLE", ImmutableList.of("a")), // Reshape__shadow of a pinned tensor
          new Flow(2, "kSHUFFLE", ImmutableList.of("b")), // Transpose of that: FP32 too
          new Flow(3, "kELEMENTWISE", ImmutableList.of("a")), // computes: the build's precision
          new Flow(4, "kSLICE", ImmutableList.of("d")), // moves the FP16 data of layer 3
          new Flow(5, "kCONCATENATION", ImmutableList.of("a", "d")), // one FP16 input
          new Flow(6, "kSHUFFLE", ImmutableList.of("x")), // a network input, declared FP32
          new Flow(7, "kSHUFFLE", ImmutableList.of()), // shape arithmetic: nothing to type
          new Flow(8, "kPADDING", ImmutableList.of("d"))); // Swin-T's Pad: FP16 in, FP16 out

  private final Map<String, Integer> producers =
      Map.of("a", 0, "b", 1, "c", 2, "d", 3, "e", 4, "f", 5, "g", 6, "h", 7, "p", 8);

  @Test
  void dataMovedFromFp32TensorsIsFp32AndComputedOrFp16DataIsNot() {
    assertThat(Fp32Carriers.of(flows, producers, List.of(0))).containsExactlyInAnyOrder(1, 2, 6);
  }

  @Test
  void withNothingPinnedOnlyMovesOfNetworkInputsCarryFp32() {
    assertThat(Fp32Carriers.of(flows, producers, List.of())).containsExactly(6);
  }

  @Test
  void observedAsFp16KeepsTheShadowCopiesOfPinnedTensorsFp32() {
    List<Marked> marked =
        List.of(
            new Marked("b", 1, true),
            new Marked("c", 2, true),
            new Marked("d", 3, true),
            new Marked("e", 4, true),
            new Marked("p", 8, true));
    Set<Integer> fp32 = new HashSet<>(List.of(0));
    fp32.addAll(Fp32Carriers.of(flows, producers, List.of(0)));
    assertThat(ObservedTypes.halfTyped(Mode.FP16, marked, fp32)).containsExactly("d", "e", "p");
  }
}
