package dev.halfbisect.cli.testing;

import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.ort.OrtBackend;
import java.io.IOException;
import java.util.List;

/**
 * Backend {@code twin}: a stand-in for TensorRT with TensorRT's mode names ({@code fp32}, {@code
 * fp16}, {@code fp16-strong}, {@code bf16-strong}), each run as ONNX Runtime's emulation of that
 * mode ({@code MODE-emulated}), so that tests can see which emulation an emulation-first search
 * picks for it. ONNX Runtime cannot round to BF16 below opset 13 (TensorRT can), so there the
 * stand-in's {@code bf16-strong} runs FP16's strongly typed emulation: some candidate numerics, to
 * let a search run on the candidate.
 */
public final class TwinBackend implements Backend {
  private final OrtBackend ort = new OrtBackend();

  @Override
  public String name() {
    return "twin";
  }

  @Override
  public List<String> modes() {
    return List.of("fp32", "fp16", "fp16-strong", "bf16-strong");
  }

  @Override
  public String referenceMode() {
    return "fp32";
  }

  @Override
  public String candidateMode() {
    return "fp16";
  }

  @Override
  public Availability availability() {
    return ort.availability();
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    String mode = options.mode();
    if (!mode.equals("fp32")) {
      mode = mode + "-emulated";
      if (mode.startsWith("bf16") && opset(model) < 13) {
        mode = "fp16-strong-emulated";
      }
    }
    return ort.open(
        model, new BuildOptions(mode, options.plan(), options.observed(), options.properties()));
  }

  private static long opset(ModelRef model) throws BackendException {
    try {
      return OnnxModel.parse(model.bytes(), model.baseDir().orElse(null), model.name())
          .opsetVersion();
    } catch (IOException e) {
      throw new BackendException("twin: cannot read " + model.name(), e);
    }
  }
}
