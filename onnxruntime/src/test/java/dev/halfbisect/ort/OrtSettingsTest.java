package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.halfbisect.core.backend.BuildOptions;
import org.junit.jupiter.api.Test;

class OrtSettingsTest {
  private static final int CORES = Runtime.getRuntime().availableProcessors();

  @Test
  void oneSessionAtATimeGetsEveryCoreAndSpins() {
    OrtSettings s = OrtSettings.from(BuildOptions.of("fp16-emulated"), OptLevel.NO_OPT);
    assertThat(s.intraOpThreads()).isEqualTo(CORES);
    assertThat(s.spinning()).isTrue();
  }

  @Test
  void sessionsSideBySideShareTheCoresAndDoNotSpin() {
    // four emulation probes at a time on the H200 host's 16 cores: 4 threads each, not 16
    OrtSettings s =
        OrtSettings.from(
            BuildOptions.of("fp16-emulated").withProperty(BuildOptions.CONCURRENT_BUILDS, "4"),
            OptLevel.NO_OPT);
    assertThat(s.intraOpThreads()).isEqualTo(Math.max(1, CORES / 4));
    assertThat(s.spinning()).isFalse();
    OrtSettings many =
        OrtSettings.from(
            BuildOptions.of("fp16-emulated")
                .withProperty(BuildOptions.CONCURRENT_BUILDS, Integer.toString(4 * CORES)),
            OptLevel.NO_OPT);
    assertThat(many.intraOpThreads()).isEqualTo(1);
  }

  @Test
  void anExplicitThreadCountWins() {
    OrtSettings s =
        OrtSettings.from(
            BuildOptions.of("fp32")
                .withProperty(BuildOptions.CONCURRENT_BUILDS, "2")
                .withProperty(OrtSettings.THREADS, "3"),
            OptLevel.NO_OPT);
    assertThat(s.intraOpThreads()).isEqualTo(3);
    assertThatThrownBy(
            () ->
                OrtSettings.from(
                    BuildOptions.of("fp32").withProperty(OrtSettings.THREADS, "0"),
                    OptLevel.NO_OPT))
        .hasMessageContaining("ort.threads");
  }
}
