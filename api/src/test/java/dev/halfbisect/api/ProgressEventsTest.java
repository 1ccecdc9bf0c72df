package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.api.testing.TestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a progress display receives (issue 17 point 3). */
class ProgressEventsTest {
  @Test
  void phasesAreTheStrategiesWithTheirBoundAndReferenceRunsAreAnnounced() {
    List<String> events = new ArrayList<>();
    ProgressListener l =
        new ProgressListener() {
          @Override
          public void phase(String name, int totalSteps) {
            events.add("phase " + name + " " + totalSteps);
          }

          @Override
          public void step(int done, String message) {
            events.add("step " + done);
          }

          @Override
          public void running(String what) {
            events.add("running " + what);
          }
        };
    HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .listener(l)
        .bisect();
    assertThat(events).doesNotContain("phase reference -1");
    assertThat(events.get(0)).isEqualTo("phase preflight -1");
    assertThat(events).contains("running reference: interp FP32 build");
    assertThat(events).contains("running candidate: interp FP16-emulated build");
    // bisect announces its bound: ceil(log2 N) + 1 candidate builds for N float tensors
    assertThat(events).anyMatch(e -> e.matches("phase bisect [1-9]\\d*"));
    int bisect = events.indexOf("phase bisect -1");
    assertThat(bisect).isPositive();
    assertThat(events.subList(bisect, events.size()))
        .filteredOn(e -> e.matches("step [1-9]\\d*"))
        .first()
        .isEqualTo("step 1");
  }
}
