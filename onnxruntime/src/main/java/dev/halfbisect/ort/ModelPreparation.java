package dev.halfbisect.ort;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.LowPrecision;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.CastPlacedEmulation;
import dev.halfbisect.onnx.Fp16Accumulation;
import dev.halfbisect.onnx.Fp16Conversion;
import dev.halfbisect.onnx.Fp16Emulation;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.MarkOutputs;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.OnnxModelException;
import dev.halfbisect.onnx.UnknownNameException;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrites a model for one build with onnx-surgery: FP16 emulation under the plan (for {@code
 * fp16-emulated}), then the observed tensors marked as graph outputs. Observed names are checked
 * against the original model, so an observed tensor is always an ONNX tensor of the caller's model.
 */
final class ModelPreparation {
  private ModelPreparation() {}

  /**
   * @throws IllegalArgumentException for observed tensors or plan nodes the model lacks, naming
   *     them
   * @throws BackendException when the bytes are not a model onnx-surgery can read or rewrite
   */
  /** A parsed model, read from its bytes ({@link #parse}) or taken from a cache. */
  @FunctionalInterface
  interface Parsed {
    OnnxModel get() throws BackendException;
  }

  static PreparedModel prepare(
      ModelRef ref, byte[] bytes, BuildOptions options, boolean emulate, Parsed parsed)
      throws BackendException {
    if (!emulate && options.observed().isEmpty()) {
      return new PreparedModel(
          bytes, ImmutableList.of(), ImmutableList.of()); // nothing to rewrite: skip parsing
    }
    OnnxModel model = parsed.get();
    GraphIndex index = model.index();
    List<String> missing = new ArrayList<>();
    for (String name : options.observed()) {
      if (!index.hasValue(name)) {
        missing.add(name);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(
          "model '"
              + ref.name()
              + "' has no tensor named "
              + missing
              + "; observe node outputs or graph inputs");
    }
    List<String> graphOutputs = index.graphOutputs();
    List<String> marked = new ArrayList<>();
    for (String name : options.observed()) {
      if (!graphOutputs.contains(name)) {
        marked.add(name);
      }
    }
    try {
      LowPrecision low = LowPrecision.ofMode(options.mode());
      if (emulate && model.opsetVersion() < low.minimumCastOpset()) {
        // issue 19: the rounding Casts need bfloat16, which ONNX's Cast accepts from opset 13
        long need = low.minimumCastOpset();
        throw new BackendException(
            "ort:"
                + options.mode()
                + " needs ONNX opset >= "
                + need
                + " (Cast to "
                + low.dtype().cliName()
                + " exists from opset "
                + need
                + "); model '"
                + ref.name()
                + "' has opset "
                + model.opsetVersion()
                + ": re-export it with opset >= "
                + need
                + ", or use trt:bf16-strong on a GPU");
      }
      OnnxModel m = model;
      if (emulate && options.mode().contains("strong")) {
        // issue 19: the strongly typed deliverable itself, with its storage types' numerics
        m =
            CastPlacedEmulation.apply(
                Fp16Conversion.apply(model, options.plan(), low).model(), low);
      } else if (emulate) {
        m = Fp16Emulation.apply(model, options.plan(), low);
      }
      if (OrtBackend.accumulatesInFp16(options.mode())) {
        m = Fp16Accumulation.apply(m, Fp16Accumulation.TENSOR_CORE_CHUNK);
      }
      if (!marked.isEmpty()) {
        m = MarkOutputs.tensors(m, marked);
      }
      return new PreparedModel(
          m.toBytes(), marked, emulate ? planWarnings(index, options) : List.of());
    } catch (UnknownNameException e) {
      throw new IllegalArgumentException("model '" + ref.name() + "': " + e.getMessage(), e);
    } catch (OnnxModelException e) {
      throw new BackendException(
          "model '"
              + ref.name()
              + "' cannot be prepared for "
              + options.mode()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Pinned nodes the model lacks are ignored (a probe on an extracted subgraph runs under the plan
   * of the whole model), but said, since a plan written for another model pins nothing here.
   */
  private static List<String> planWarnings(GraphIndex index, BuildOptions options) {
    List<String> absent = new ArrayList<>();
    for (String node : options.plan().fp32Nodes()) {
      if (!index.hasNode(node)) {
        absent.add(node);
      }
    }
    if (absent.isEmpty()) {
      return List.of();
    }
    List<String> shown = absent.subList(0, Math.min(5, absent.size()));
    return List.of(
        "precision plan pins "
            + absent.size()
            + " of "
            + options.plan().fp32Nodes().size()
            + " node(s) this model does not have, ignored: "
            + shown
            + (absent.size() > shown.size() ? " ..." : ""));
  }

  /** The model {@code bytes} hold, for {@link #prepare}. */
  static OnnxModel parse(ModelRef ref, byte[] bytes) throws BackendException {
    try {
      return OnnxModel.parse(bytes, ref.baseDir().orElse(null), ref.name());
    } catch (OnnxModelException e) {
      throw new BackendException("model '" + ref.name() + "' cannot be read: " + e.getMessage(), e);
    }
  }
}
