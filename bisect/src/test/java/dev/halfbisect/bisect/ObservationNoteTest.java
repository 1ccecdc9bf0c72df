package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.bisect.testing.InterpreterLikeBackend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import org.junit.jupiter.api.Test;

/**
 * Layerwise's caveat that marked outputs change TensorRT's fusions is for TensorRT candidates: on
 * ONNX Runtime's emulation it was noise in every report.
 */
class ObservationNoteTest {
  /** The interpreter under TensorRT's name. */
  private static final class NamedTrt extends InterpreterLikeBackend {
    @Override
    public String name() {
      return "trt";
    }

    @Override
    public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
      return interp.open(model, options);
    }
  }

  @Test
  void theCaveatComesWithATensorRtCandidateOnly() {
    ModelGraph g = TestModels.transformer(2, 1);
    InterpreterBackend interp = new InterpreterBackend();
    Layerwise.Result onEmulation =
        Layerwise.run(TestModels.context(g, interp, TestModels.transformerSamples(1)).build());
    assertThat(onEmulation.note()).isNull();
    NamedTrt trt = new NamedTrt();
    Layerwise.Result onTrt =
        Layerwise.run(
            BisectContext.builder(
                    g, interp, BuildOptions.of("fp32"), trt, BuildOptions.of("fp16-emulated"))
                .samples(TestModels.transformerSamples(1))
                .build());
    assertThat(onTrt.note()).isEqualTo(Layerwise.OBSERVATION_NOTE);
  }
}
