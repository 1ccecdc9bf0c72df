package dev.halfbisect.core.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Issue 20: latency statistics and the wall-clock timing loop. */
class TimingTest {
  @Test
  void medianP90AndThroughputFollowTheRuns() {
    Timing t =
        Timing.ofNanos(
            Timing.Clock.GPU_EVENTS,
            1,
            new long[] {
              10_000_000,
              1_000_000,
              2_000_000,
              3_000_000,
              4_000_000,
              5_000_000,
              6_000_000,
              7_000_000,
              8_000_000,
              9_000_000,
              11_000_000
            });
    assertThat(t.medianMillis()).isEqualTo(6.0);
    assertThat(t.p90Millis()).isEqualTo(10.0);
    assertThat(t.meanMillis()).isEqualTo(6.0);
    assertThat(t.throughput(8)).isEqualTo(8 * 1000.0 / 6.0);
  }

  @Test
  void wallClockRunsWarmupThenTimedRuns() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Timing t =
        Timing.byWallClock(
            Timing.Clock.HOST_WALL, new TimingRequest(3, 4), () -> calls.incrementAndGet());
    assertThat(calls).hasValue(7);
    assertThat(t.millis()).hasSize(4).allMatch(ms -> ms >= 0);
    assertThat(t.clock().measuresFp16Speed()).isFalse();
  }

  @Test
  void emulationIsNeverFp16Speed() {
    assertThat(Timing.Clock.CPU_EMULATION.description()).contains("not FP16 speed");
    assertThat(Timing.Clock.CPU_EMULATION.measuresFp16Speed()).isFalse();
    assertThat(Timing.Clock.GPU_WALL.measuresFp16Speed()).isTrue();
    assertThatThrownBy(() -> new TimingRequest(0, 0)).hasMessageContaining("timed runs");
  }
}
