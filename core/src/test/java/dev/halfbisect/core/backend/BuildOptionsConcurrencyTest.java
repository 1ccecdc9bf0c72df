package dev.halfbisect.core.backend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The concurrency property: read by worker pools, left out of what identifies a build. */
class BuildOptionsConcurrencyTest {
  @Test
  void concurrentBuildsIsReadAndLeftOutOfTheIdentity() {
    BuildOptions plain = BuildOptions.of("fp16").withProperty("halfbisect.trt.workspaceMiB", "512");
    BuildOptions four = plain.withProperty(BuildOptions.CONCURRENT_BUILDS, "4");
    assertThat(plain.concurrentBuilds()).isEqualTo(1);
    assertThat(four.concurrentBuilds()).isEqualTo(4);
    assertThat(four.identityProperties())
        .isEqualTo(plain.identityProperties())
        .containsOnlyKeys("halfbisect.trt.workspaceMiB");
    assertThat(plain.withProperty(BuildOptions.CONCURRENT_BUILDS, "many").concurrentBuilds())
        .isEqualTo(1);
    assertThat(plain.withProperty(BuildOptions.CONCURRENT_BUILDS, "0").concurrentBuilds())
        .isEqualTo(1);
  }
}
