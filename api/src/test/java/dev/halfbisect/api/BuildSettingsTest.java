package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.api.testing.SettingsBackend;
import dev.halfbisect.api.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend's settings from system properties (TensorRT's {@code halfbisect.trt.observedAs}) reach
 * its low-precision builds through the facade and key the probe journal: a resumed run with another
 * setting builds again instead of reading probes made under the old one.
 */
class BuildSettingsTest {
  @TempDir Path tmp;

  @BeforeEach
  @AfterEach
  void clear() {
    System.clearProperty(SettingsBackend.PROPERTY);
    SettingsBackend.FP16_BUILDS.clear();
  }

  private static HalfBisect overflow(Path journal) {
    return HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("settings:fp16-emulated")
        .samples(2)
        .journal(journal);
  }

  @Test
  void theSettingReachesTheBuildsAndAResumedRunWithAnotherSettingBuildsAgain() throws Exception {
    Path journal = tmp.resolve("probes.jsonl");
    System.setProperty(SettingsBackend.PROPERTY, "fp16");
    BisectResult first = overflow(journal).bisect();
    int firstBuilds = SettingsBackend.FP16_BUILDS.size();
    assertThat(firstBuilds).isPositive();
    assertThat(SettingsBackend.FP16_BUILDS)
        .allSatisfy(p -> assertThat(p).containsEntry(SettingsBackend.PROPERTY, "fp16"));
    assertThat(Files.readString(journal)).isNotBlank();

    SettingsBackend.FP16_BUILDS.clear();
    BisectResult same = overflow(journal).bisect();
    assertThat(same.divergence()).isEqualTo(first.divergence());
    assertThat(SettingsBackend.FP16_BUILDS).as("read back from the journal").isEmpty();

    System.setProperty(SettingsBackend.PROPERTY, "fp32");
    BisectResult other = overflow(journal).bisect();
    assertThat(other.divergence()).isEqualTo(first.divergence());
    assertThat(SettingsBackend.FP16_BUILDS)
        .as("another setting: the journal's probes do not answer")
        .hasSize(firstBuilds)
        .allSatisfy(p -> assertThat(p).containsEntry(SettingsBackend.PROPERTY, "fp32"));
  }
}
