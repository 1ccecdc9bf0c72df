package dev.halfbisect.trt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** On a machine without TensorRT/GPU: a clear reason, and nothing native loaded in this JVM. */
class TensorRtAvailabilityTest {
  @Test
  void isFoundByServiceLoaderWithoutLoadingNatives() throws Exception {
    Backend b = Backends.get("trt");
    assertThat(b).isInstanceOf(TensorRtBackend.class);
    assertThat(b.modes()).containsExactly("fp32", "tf32", "fp16", "fp16-strong", "bf16-strong");
    assertThat(b.referenceMode()).isEqualTo("fp32");
    assertThat(b.candidateMode()).isEqualTo("fp16");
    assertThat(nativeLibrariesInThisProcess()).isEmpty();
  }

  @Test
  void availabilitySaysWhatIsMissingAndLoadsNoNativeCodeHere() throws Exception {
    Availability a = new TensorRtBackend().availability();
    Assumptions.assumeFalse(a.available(), "this machine has TensorRT and a GPU: " + a.reason());
    assertThat(a.reason()).containsAnyOf("TensorRT", "CUDA", "GPU");
    assertThat(a.reason()).contains("install", "LD_LIBRARY_PATH");
    assertThat(nativeLibrariesInThisProcess()).isEmpty();
  }

  static String nativeLibrariesInThisProcess() throws Exception {
    Assumptions.assumeTrue(NativeMaps.readable(), "needs /proc/self/maps (Linux)");
    return NativeMaps.tensorRtLibraries();
  }

  @Test
  void aBadSettingIsTheReasonNotAnException() {
    // resolving the default backends asks TensorRT's availability, on machines without a GPU too
    System.setProperty("halfbisect.trt.workers", "0");
    try {
      Availability a = TensorRtBackend.probeSystem();
      assertThat(a.available()).isFalse();
      assertThat(a.reason())
          .isEqualTo("TensorRT backend: halfbisect.trt.workers must be at least 1, got 0");
    } finally {
      System.clearProperty("halfbisect.trt.workers");
    }
  }
}
