package dev.halfbisect.trt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Issue 19: what trt modes run as on TensorRT 10 and 11 (fake versions, no GPU). */
class CandidateModesTest {
  @Test
  void versionIsReadFromTheWorkersProbeAnswer() {
    assertThat(
            TrtVersion.find(
                "TensorRT 10.6.0 on NVIDIA H200 (compute capability 9.0), timing cache /x"))
        .contains(new TrtVersion(10, 6, 0));
    assertThat(TrtVersion.find("TensorRT 11.2 on NVIDIA B200")).contains(new TrtVersion(11, 2, 0));
    assertThat(TrtVersion.find("no GPU")).isEmpty();
    assertThat(TrtVersion.find(null)).isEmpty();
    assertThat(new TrtVersion(10, 6, 0).hasWeakTyping()).isTrue();
    assertThat(new TrtVersion(11, 0, 0).hasWeakTyping()).isFalse();
  }

  @Test
  void fp16IsStronglyTypedFromTensorRt11WithAOneLineNote() {
    CandidateModes.Mapped on11 = CandidateModes.map("fp16", Optional.of(new TrtVersion(11, 2, 0)));
    assertThat(on11.mode()).isEqualTo("fp16-strong");
    assertThat(on11.note())
        .isEqualTo(
            "TensorRT 11.2.0 has no weak typing: trt:fp16 runs as trt:fp16-strong (the plan's "
                + "Casts placed in the ONNX, built strongly typed)")
        .doesNotContain("\n");
    CandidateModes.Mapped on10 = CandidateModes.map("fp16", Optional.of(new TrtVersion(10, 6, 0)));
    assertThat(on10.mode()).isEqualTo("fp16");
    assertThat(on10.note()).isNull();
    for (String m : new String[] {"fp32", "tf32", "fp16-strong", "bf16-strong"}) {
      assertThat(CandidateModes.map(m, Optional.of(new TrtVersion(11, 0, 0))).mode()).isEqualTo(m);
    }
    assertThat(CandidateModes.map("fp16", Optional.empty()).mode()).isEqualTo("fp16");
    assertThat(TensorRtBackend.MODES).contains("bf16-strong", "fp16-strong");
  }
}
