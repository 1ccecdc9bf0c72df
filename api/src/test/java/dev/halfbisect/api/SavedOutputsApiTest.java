package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.data.SavedOutputs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --save-outputs / --load-outputs from Java (issue 17 point 6). */
class SavedOutputsApiTest {
  @TempDir Path tmp;

  /** Records what the analysis runs. */
  static final class Runs implements ProgressListener {
    final List<String> running = new ArrayList<>();

    @Override
    public void phase(String name, int totalSteps) {}

    @Override
    public void step(int done, String message) {}

    @Override
    public void running(String what) {
      running.add(what);
    }
  }

  private static HalfBisect overflow() {
    return HalfBisect.model(TestModels.overflow(), null, "overflow.onnx")
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated");
  }

  @Test
  void savedReferenceOutputsReplaceTheReferenceRun() throws Exception {
    Path golden = tmp.resolve("golden.npz");
    Runs first = new Runs();
    CompareResult saved = overflow().saveOutputs(golden).listener(first).compare();
    assertThat(first.running).contains("reference: interp FP32 build");
    SavedOutputs file = SavedOutputs.read(golden);
    assertThat(file.backend()).isEqualTo("interp:fp32");
    assertThat(file.samples())
        .singleElement()
        .satisfies(s -> assertThat(s).containsOnlyKeys("out"));

    Runs second = new Runs();
    CompareResult loaded = overflow().loadOutputs(golden).listener(second).compare();
    assertThat(second.running).isNotEmpty().noneMatch(r -> r.startsWith("reference:"));
    assertThat(loaded.outputs()).isEqualTo(saved.outputs());
  }

  @Test
  void outputsOfOtherInputsAnotherModelOrAnotherReferenceAreRefused() throws Exception {
    Path golden = tmp.resolve("golden.npz");
    overflow().saveOutputs(golden).compare();
    assertThatThrownBy(() -> overflow().seed(9).loadOutputs(golden).compare())
        .isInstanceOf(HalfBisectException.class)
        .hasMessageContaining(golden + ": saved outputs were computed from other inputs")
        .extracting(e -> ((HalfBisectException) e).kind())
        .isEqualTo(HalfBisectException.Kind.USAGE);
    HalfBisect healthy =
        HalfBisect.model(TestModels.healthy(), null, "healthy.onnx")
            .reference("interp:fp32")
            .candidate("interp:fp16-emulated");
    assertThatThrownBy(() -> healthy.loadOutputs(golden).compare())
        .hasMessageContaining("saved outputs were computed from another model");
    SavedOutputs s = SavedOutputs.read(golden);
    Path trt = tmp.resolve("trt.npz");
    SavedOutputs.of(s.modelDigest(), s.inputsDigest(), "trt:fp32", s.samples()).write(trt);
    assertThatThrownBy(() -> overflow().loadOutputs(trt).compare())
        .hasMessageContaining("computed by trt:fp32 but the reference is interp:fp32")
        .hasMessageContaining("--reference trt:fp32");
    assertThatThrownBy(() -> overflow().loadOutputs(tmp.resolve("nosuch.npz")))
        .hasMessageContaining("nosuch.npz: file not found");
  }
}
