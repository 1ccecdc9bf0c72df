package dev.halfbisect.api;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.OnnxModelException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens the facade's model as the bisect module's {@link ModelGraph}, once per {@link HalfBisect},
 * and turns what is wrong with it into a {@link HalfBisectException}: a missing file is {@code
 * USAGE}; a file that is not ONNX, a graph without nodes or outputs, a cycle, a tensor produced
 * twice or read but never produced is {@code MODEL}. Node names are onnx-surgery's ({@link
 * OnnxModel}): unnamed nodes become {@code <OpType>_<k>}, a repeated name {@code <name>__<n>}.
 */
final class GraphLoader {
  private GraphLoader() {}

  /**
   * Reads an ONNX file; its display name is the path as given (issue 17: reports and the trtexec
   * line name the file the user can pass on).
   */
  static ModelGraph load(Path file) {
    if (Files.isDirectory(file)) { // issue 16: say what it is, not "not found"
      throw HalfBisectException.usage(
          "model " + file + " is a directory; expected an ONNX model file (.onnx)");
    }
    if (!Files.isRegularFile(file)) {
      throw HalfBisectException.usage("model file not found: " + file);
    }
    OnnxModel m;
    try {
      m = OnnxModel.load(file);
    } catch (OnnxModelException e) {
      throw modelError(e);
    }
    return open(OnnxModel.of(m.proto(), m.baseDir().orElse(null), file.toString()));
  }

  /** Indexes and sorts a model held in memory. */
  static ModelGraph open(OnnxModel m) {
    if (m.graph().getNodeCount() == 0) {
      throw new HalfBisectException(
          HalfBisectException.Kind.MODEL,
          m.name() + " is not an ONNX model with a graph (no nodes)");
    }
    if (m.graph().getOutputCount() == 0) {
      throw new HalfBisectException(
          HalfBisectException.Kind.MODEL, m.name() + ": the graph has no outputs");
    }
    try {
      return ModelGraph.of(m);
    } catch (OnnxModelException e) {
      throw modelError(e);
    }
  }

  private static HalfBisectException modelError(OnnxModelException e) {
    return new HalfBisectException(HalfBisectException.Kind.MODEL, e.getMessage(), e);
  }
}
