package dev.halfbisect.onnx;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.NpyFormatException;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the fuzzer feeds each mutated model through: load, index queries, every surgery operation,
 * tensor decoding, FP16 rewrites and a save/reload round trip. {@link #isAllowed} tells the
 * project's typed rejections apart from bugs.
 */
final class SurgeryFuzzTarget {
  private final Path modelDir;
  private int runs;

  /**
   * @param modelDir the folder mutated models are "loaded from": it holds {@code weights.bin} (the
   *     external data of the seed corpus), a symlink {@code escape-link} to a folder outside it and
   *     a {@code save/} folder for round trips
   */
  SurgeryFuzzTarget(Path modelDir) {
    this.modelDir = modelDir;
  }

  /** Seed corpus: builder-made models, one of them with external data in {@code weights.bin}. */
  static List<byte[]> seedCorpus(Path modelDir) throws IOException {
    List<byte[]> corpus = new ArrayList<>();
    corpus.add(Fp16TestModels.block(1f).toByteArray());
    corpus.add(TestModels.chain().toByteArray());
    corpus.add(smallMlp().toByteArray());
    OnnxModel ext = OnnxModel.of(Fp16TestModels.block(600f), modelDir, "block");
    Path file = modelDir.resolve("block.onnx");
    ext.save(file, SaveOptions.external("weights.bin").withSizeThreshold(64));
    corpus.add(Files.readAllBytes(file));
    Files.delete(file);
    return corpus;
  }

  /** Prepares {@code modelDir} (external data comes from {@link #seedCorpus}). */
  static void prepareFolder(Path root, Path modelDir) throws IOException {
    Files.createDirectories(modelDir.resolve("save"));
    Path outside = Files.createDirectories(root.resolve("outside"));
    Files.write(outside.resolve("w.bin"), new byte[4096]);
    try {
      Files.createSymbolicLink(modelDir.resolve("escape-link"), outside);
    } catch (UnsupportedOperationException | IOException e) {
      // no symlinks on this file system: the other location mutations still run
    }
  }

  private static Onnx.ModelProto smallMlp() {
    GraphBuilder g = GraphBuilder.create("mlp", 17).seed(3);
    String x = g.input("x", DType.FLOAT32, 2, 8);
    String h = g.geluTanh(g.linear(x, 8, 8));
    h = g.softmax(g.layerNorm(h, 8, 1e-5f, true), -1);
    String idx = g.cast(g.reduceSum(h, new long[] {1}, true), DType.INT64);
    g.output(g.add(h, g.cast(idx, DType.FLOAT32)), "y");
    return g.buildProto();
  }

  /** Runs one input; returns normally or throws whatever the code under test threw. */
  void exercise(byte[] bytes) {
    runs++;
    OnnxModel m = OnnxModel.parse(bytes, modelDir, "fuzz.onnx");
    GraphIndex idx = m.index();
    for (String v : idx.valueNames()) {
      idx.elementType(v);
      idx.shape(v);
      idx.producer(v);
      idx.consumers(v);
      idx.isInitializer(v);
    }
    for (Onnx.NodeProto n : idx.nodes()) {
      idx.topoPosition(n.getName());
      idx.nodeInputs(n);
    }
    List<String> floats = idx.floatTensors();
    MarkOutputs.allFloat(m).index();
    if (!floats.isEmpty()) {
      MarkOutputs.tensors(m, List.of(floats.get(floats.size() / 2))).index();
      Extract.subgraph(m, idx.graphInputs(), List.of(floats.get(floats.size() / 2))).index();
    }
    Sanitize.apply(m).index();
    InitializerRangeReport.of(m).format(5);
    for (Onnx.TensorProto t : m.graph().getInitializerList()) {
      Tensor decoded = TensorData.toTensor(t, modelDir);
      if (decoded.dtype().isFloatingPoint()) {
        decoded.toFloatArray();
      }
    }
    Fp16Conversion.apply(m, PrecisionPlan.allFp16()).model().index();
    Fp16Emulation.apply(m, PrecisionPlan.allFp16()).index();
    m.toBytes();
    if (runs % 16 == 0) {
      // save/reload through the file system: inline, then external data next to the copy
      Path copy = modelDir.resolve("save").resolve("copy.onnx");
      m.save(copy);
      OnnxModel.load(copy).index();
      m.save(copy, SaveOptions.external("copy.bin"));
      OnnxModel.load(copy).index();
    }
  }

  /**
   * The project's typed rejections: OnnxModelException and subclasses, NpyFormatException, and an
   * IllegalArgumentException that says what was wrong. Everything else escaping is a bug.
   */
  static boolean isAllowed(Throwable t) {
    if (t instanceof OnnxModelException || t instanceof NpyFormatException) {
      return t.getMessage() != null && !t.getMessage().isBlank();
    }
    return t.getClass() == IllegalArgumentException.class
        && t.getMessage() != null
        && !t.getMessage().isBlank();
  }

  /** A stable signature of an escaped exception: its class and the first project frame. */
  static String signature(Throwable t) {
    String frame = "?";
    for (StackTraceElement e : t.getStackTrace()) {
      if (e.getClassName().startsWith("dev.halfbisect.") && !e.getClassName().contains("Fuzz")) {
        frame =
            e.getClassName().replace("dev.halfbisect.", "")
                + "."
                + e.getMethodName()
                + ":"
                + e.getLineNumber();
        break;
      }
    }
    return t.getClass().getSimpleName() + " at " + frame;
  }
}
