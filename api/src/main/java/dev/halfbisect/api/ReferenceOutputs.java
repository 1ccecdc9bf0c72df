package dev.halfbisect.api;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.SavedOutputs;
import dev.halfbisect.core.data.SavedOutputs.Mismatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Golden outputs reused between runs (Polygraphy's {@code --save-outputs}/{@code --load-outputs},
 * issue 17): {@code load} is a file of {@link SavedOutputs} whose values stand in for the reference
 * (so a TensorRT FP32 reference is built once per model and inputs), {@code save} is where the
 * reference's graph outputs are written after the operation.
 *
 * @param load file to read the reference outputs from, or null
 * @param save file to write them to, or null
 */
record ReferenceOutputs(Path load, Path save) {
  static ReferenceOutputs none() {
    return new ReferenceOutputs(null, null);
  }

  /**
   * The loaded values, checked against the model, the samples and the reference backend.
   *
   * @throws HalfBisectException USAGE naming the file when they belong to another model, other
   *     inputs or another reference backend; BACKEND when the file cannot be read
   */
  List<Map<String, Tensor>> read(
      ModelGraph graph, List<Map<String, Tensor>> samples, String referenceSpec) {
    SavedOutputs saved;
    try {
      saved = SavedOutputs.read(load);
    } catch (IOException e) {
      throw HalfBisectException.usage("cannot read --load-outputs " + load + ": " + e.getMessage());
    } catch (IllegalArgumentException | dev.halfbisect.core.data.NpyFormatException e) {
      // a file the user named that is not an outputs file (reduce's plain reference.npz, say) is a
      // usage error, not a backend one
      throw HalfBisectException.usage("--load-outputs " + e.getMessage());
    }
    try {
      saved.requireMatch(modelDigest(graph), SavedOutputs.inputsDigest(samples), load.toString());
    } catch (Mismatch e) {
      throw HalfBisectException.usage(e.getMessage());
    }
    if (!saved.backend().equals(referenceSpec)) {
      throw HalfBisectException.usage(
          load
              + ": saved outputs were computed by "
              + saved.backend()
              + " but the reference is "
              + referenceSpec
              + "; pass --reference "
              + saved.backend()
              + " (Java: reference(\""
              + saved.backend()
              + "\"))");
    }
    return new ArrayList<>(saved.samples());
  }

  /** Writes the reference values of the graph outputs, per sample. */
  void write(
      ModelGraph graph,
      List<Map<String, Tensor>> samples,
      String referenceSpec,
      List<Map<String, Tensor>> reference) {
    List<Map<String, Tensor>> outputs = new ArrayList<>();
    for (Map<String, Tensor> s : reference) {
      Map<String, Tensor> o = new LinkedHashMap<>();
      for (String name : graph.graphOutputs()) {
        if (s.containsKey(name)) {
          o.put(name, s.get(name));
        }
      }
      outputs.add(o);
    }
    try {
      SavedOutputs.of(
              modelDigest(graph), SavedOutputs.inputsDigest(samples), referenceSpec, outputs)
          .write(save);
    } catch (IOException e) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          "cannot write --save-outputs " + save + ": " + e.getMessage(),
          e);
    }
  }

  static String modelDigest(ModelGraph graph) {
    return SavedOutputs.modelDigest(graph.proto().toByteArray());
  }
}
