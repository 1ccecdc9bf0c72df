package dev.halfbisect.trt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriverCheckTest {
  @TempDir Path dir;

  @Test
  void noDriverFilesMeansNoWorkerIsAsked() throws Exception {
    Path proc = dir.resolve("version");
    Path ctl = dir.resolve("nvidiactl");
    assertThat(DriverCheck.problem("Linux", proc, ctl))
        .contains("no NVIDIA driver on this machine", proc.toString(), ctl.toString());
    Files.writeString(proc, "NVRM version: 580");
    assertThat(DriverCheck.problem("Linux", proc, ctl)).isNull();
    Files.delete(proc);
    Files.writeString(ctl, "");
    assertThat(DriverCheck.problem("Linux", proc, ctl)).isNull();
    assertThat(DriverCheck.problem("Mac OS X", proc, ctl)).contains("Linux x86_64 only");
  }

  @Test
  void availabilityWithoutADriverSaysSoWithTheInstallHint() {
    String here = DriverCheck.problem();
    org.junit.jupiter.api.Assumptions.assumeTrue(here != null, "this machine has a driver");
    assertThat(TensorRtBackend.probe(dev.halfbisect.trt.client.TrtSettings.fromSystem()).reason())
        .contains("no NVIDIA driver on this machine", "LD_LIBRARY_PATH");
  }
}
