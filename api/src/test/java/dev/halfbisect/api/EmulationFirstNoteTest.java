package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.EmulationFirst;
import dev.halfbisect.core.backend.BackendSpec;
import org.junit.jupiter.api.Test;

/** The report's emulation-first note, which way the search went and what to try next. */
class EmulationFirstNoteTest {
  private static final BackendSpec TRT_FP16 = BackendSpec.parse("trt:fp16");
  private static final BackendSpec STORAGE = BackendSpec.parse("ort:fp16-emulated");
  private static final EmulationFirst.Precision FAILED =
      new EmulationFirst.Precision(null, 0, false);

  @Test
  void weakTypedTensorRtFailingAStorageEmulationsPlanGetsTheAccumulationEmulationSuggested() {
    String note = Operations.emulationFirstNote(FAILED, STORAGE, TRT_FP16, 4);
    assertThat(note)
        .startsWith("emulation first (ort:fp16-emulated, 4 emulation probes at a time): ")
        .contains("so the search ran on the candidate")
        .contains("try --emulation ort:fp16-acc16-emulated");
  }

  @Test
  void stronglyTypedTensorRtGetsTheStrongAccumulationEmulationSuggested() {
    assertThat(
            Operations.emulationFirstNote(
                FAILED,
                BackendSpec.parse("ort:fp16-strong-emulated"),
                BackendSpec.parse("trt:fp16-strong"),
                1))
        .contains("try --emulation ort:fp16-strong-acc16-emulated");
  }

  @Test
  void noSuggestionWhenTheAccumulationEmulationRanOrTheCandidatePassed() {
    assertThat(Operations.emulationFirstNote(FAILED, Operations.ACC16_EMULATION, TRT_FP16, 1))
        .doesNotContain("try --emulation");
    assertThat(SearchOn.matchingEmulation(TRT_FP16)).isEqualTo(Operations.ACC16_EMULATION);
    assertThat(
            Operations.emulationFirstNote(
                FAILED,
                BackendSpec.parse("ort:bf16-strong-emulated"),
                BackendSpec.parse("trt:bf16-strong"),
                1))
        .doesNotContain("try --emulation");
    assertThat(
            Operations.emulationFirstNote(
                new EmulationFirst.Precision(null, 0, true), STORAGE, TRT_FP16, 1))
        .contains("the candidate passed the emulation's plan")
        .doesNotContain("try --emulation");
  }

  @Test
  void aCalibratedRetryNamesTheRatioAndTheBoundOfThePlanThatPassed() {
    String ahead =
        Operations.emulationFirstNote(
            new EmulationFirst.Precision(null, 0, true, 1.06, true),
            Operations.ACC16_EMULATION,
            TRT_FP16,
            4);
    assertThat(ahead)
        .contains("its outputs err 1.06x the emulation's")
        .contains("the candidate passed the plan found at 1.06x");
    String margin =
        Operations.emulationFirstNote(
            new EmulationFirst.Precision(null, 0, true, 1.06, false),
            Operations.ACC16_EMULATION,
            TRT_FP16,
            4);
    assertThat(margin)
        .contains("its outputs err 1.06x")
        .contains("failed that plan too and passed the one found at 1.33x");
  }
}
