package dev.halfbisect.trt.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TimingCacheFileTest {
  @Test
  void fileNameCarriesGpuComputeCapabilityAndTensorRtVersion() {
    assertThat(TimingCacheFile.fileName("NVIDIA H100 80GB HBM3", 9, 0, "10.6.0"))
        .isEqualTo("nvidia-h100-80gb-hbm3_sm90_trt10.6.0.timing-cache");
    assertThat(TimingCacheFile.fileName("NVIDIA H200", 9, 0, "10.6.0"))
        .isNotEqualTo(TimingCacheFile.fileName("NVIDIA H100 80GB HBM3", 9, 0, "10.6.0"));
    assertThat(TimingCacheFile.fileName("../../etc", 8, 6, "10/6")).doesNotContain("/");
  }

  @Test
  void writesAtomicallyAndReadsBack(@TempDir Path dir) throws Exception {
    TimingCacheFile f = TimingCacheFile.of(dir.resolve("sub"), "GPU", 9, 0, "10.6.0");
    assertThat(f.read()).isEmpty();
    f.write(new byte[] {1, 2, 3});
    f.write(new byte[] {4, 5});
    assertThat(f.read()).hasValueSatisfying(b -> assertThat(b).containsExactly(4, 5));
    try (var files = Files.list(dir.resolve("sub"))) {
      assertThat(files).hasSize(1); // no temp files left behind
    }
  }
}
