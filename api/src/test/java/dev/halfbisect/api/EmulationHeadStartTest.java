package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.SlowStartBackend;
import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.verdict.Tolerance;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: with emulation first, the emulation searches while the candidate builds its all-FP16
 * engine ({@link EmulationHeadStart}). The {@code slowstart} candidate's first all-FP16 build waits
 * for progress that only the emulation's probes can make.
 */
class EmulationHeadStartTest {
  private final AtomicInteger steps = new AtomicInteger();
  private final List<String> running = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void reset() {
    SlowStartBackend.reset();
    SlowStartBackend.progress = steps::get;
  }

  @AfterEach
  void clear() {
    SlowStartBackend.reset();
  }

  private HalfBisect facade(Tolerance t) {
    return HalfBisect.model(TestModels.roundingChain(), null, "chain.onnx")
        .reference("interp:fp32")
        .candidate("slowstart:fp16-emulated")
        .searchOn(SearchOn.EMULATION)
        .emulation("interp:fp16-emulated")
        .tolerance(t)
        .listener(
            new ProgressListener() {
              @Override
              public void phase(String name, int totalSteps) {}

              @Override
              public void step(int done, String message) {
                steps.incrementAndGet();
              }

              @Override
              public void running(String what) {
                running.add(what);
              }
            });
  }

  @Test
  void theEmulationSearchesWhileTheCandidateBuildsItsAllFp16Engine() throws Exception {
    SlowStartBackend.steps = 3; // three emulation probes during the candidate's first build
    PrecisionResult r =
        facade(Tolerance.normalized(TestModels.roundingChainError() * 0.5)).precision();
    assertThat(SlowStartBackend.sawProgress)
        .as("emulation probes finished while the candidate built its all-FP16 engine")
        .isTrue();
    assertThat(r.passed()).isTrue();
    assertThat(r.fp32Nodes()).isNotEmpty();
    assertThat(r.oneMinimal()).isTrue();
    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertThat(j.path("execution").path("emulationBuilds").asInt()).isGreaterThanOrEqualTo(3);
    assertThat(j.path("warnings").toString()).contains("the candidate passed the emulation's plan");
  }

  @Test
  void aCandidateThatPassesAsItIsEndsTheSearchWithNothingPinned() throws Exception {
    PrecisionResult r =
        facade(Tolerance.normalized(TestModels.roundingChainError() * 2)).precision();
    assertThat(r.passed()).isTrue();
    assertThat(r.fp32Nodes()).isEmpty();
    JsonNode j = new ObjectMapper().readTree(r.toJson());
    assertThat(j.path("search").path("stopReason").asText()).contains("passes as it is");
    assertThat(j.path("warnings").toString()).doesNotContain("emulation first");
  }

  @Test
  void aCandidateThatCannotRunTheModelFailsWithItsOwnError() {
    SlowStartBackend.broken = true;
    assertThatThrownBy(
            () -> facade(Tolerance.normalized(TestModels.roundingChainError() * 0.5)).precision())
        .isInstanceOfSatisfying(
            HalfBisectException.class,
            e -> assertThat(e.kind()).isEqualTo(HalfBisectException.Kind.BACKEND))
        .hasMessageContaining("slowstart:fp16-emulated cannot run chain.onnx")
        .hasMessageContaining("no FP16 kernels");
  }
}
