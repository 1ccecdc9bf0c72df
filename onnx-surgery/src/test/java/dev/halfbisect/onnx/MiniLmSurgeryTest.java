package dev.halfbisect.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Surgery on the real all-MiniLM-L6-v2 (BERT, 6 layers, opset 11), checked by running the results
 * in ONNX Runtime with graph optimizations off. The model is loaded once and the fully marked model
 * is run once for the class (sequence length 16).
 */
class MiniLmSurgeryTest {
  private static final int SEQ = 16;
  private static final String LAYER0_OUT = "/encoder/layer.0/output/LayerNorm/Add_1_output_0";
  private static final String MASK = "/Mul_output_0";
  private static final String LAYER1_OUT = "/encoder/layer.1/output/LayerNorm/Add_1_output_0";

  @TempDir static Path dir;
  private static OnnxModel model;
  private static OrtEnvironment env;
  private static Map<String, OnnxTensor> inputs;
  private static Map<String, float[]> markedValues;
  private static Map<String, float[]> originalValues;

  @BeforeAll
  static void loadModel() throws IOException, OrtException {
    model = OnnxModel.load(MiniLmModel.copyTo(dir));
    env = OrtEnvironment.getEnvironment();
    long[] ids = new long[SEQ];
    long[] mask = new long[SEQ];
    long[] types = new long[SEQ];
    Random r = new Random(7);
    for (int i = 0; i < SEQ; i++) {
      ids[i] = i == 0 ? 101 : i == SEQ - 4 ? 102 : 1000 + r.nextInt(20000);
      mask[i] = i < SEQ - 3 ? 1 : 0; // three padding positions so the mask matters
    }
    long[] shape = {1, SEQ};
    inputs = new HashMap<>();
    inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
    inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
    inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
  }

  @AfterAll
  static void close() {
    if (inputs != null) {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private static Map<String, float[]> run(byte[] modelBytes, Map<String, OnnxTensor> feed)
      throws OrtException {
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
      try (OrtSession s = env.createSession(modelBytes, opts);
          OrtSession.Result res = s.run(feed)) {
        return floats(res);
      }
    }
  }

  private static Map<String, float[]> runPath(Path file) throws OrtException {
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
      try (OrtSession s = env.createSession(file.toString(), opts);
          OrtSession.Result res = s.run(inputs)) {
        return floats(res);
      }
    }
  }

  private static Map<String, float[]> floats(OrtSession.Result res) {
    Map<String, float[]> out = new HashMap<>();
    for (Map.Entry<String, OnnxValue> e : res) {
      OnnxTensor t = (OnnxTensor) e.getValue();
      FloatBuffer fb = t.getFloatBuffer();
      if (fb != null) {
        float[] v = new float[fb.remaining()];
        fb.get(v);
        out.put(e.getKey(), v);
      }
    }
    return out;
  }

  private static synchronized Map<String, float[]> markedRun() throws OrtException {
    if (markedValues == null) {
      markedValues = run(MarkOutputs.allFloat(model).toBytes(), inputs);
    }
    return markedValues;
  }

  private static synchronized Map<String, float[]> originalRun() throws OrtException {
    if (originalValues == null) {
      originalValues = run(model.toBytes(), inputs);
    }
    return originalValues;
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void indexesMiniLm() {
    GraphIndex i = model.index();
    assertThat(model.opsetVersion()).isEqualTo(11);
    assertThat(i.graphInputs()).containsExactly("input_ids", "attention_mask", "token_type_ids");
    assertThat(i.graphOutputs()).containsExactly("last_hidden_state");
    assertThat(i.nodes()).hasSize(model.graph().getNodeCount());
    assertThat(i.elementType("input_ids")).contains(DType.INT64);
    assertThat(i.elementType(LAYER1_OUT)).contains(DType.FLOAT32);
    // Ranks are known everywhere the checker needs them; batch and sequence stay symbolic.
    assertThat(i.shape(LAYER1_OUT))
        .hasValueSatisfying(s -> assertThat(s).containsExactly(-1, -1, 384));
    assertThat(i.floatTensors()).allSatisfy(t -> assertThat(i.shape(t)).as(t).isPresent());
    assertThat(i.elementType("/embeddings/Shape_output_0")).contains(DType.INT64);
    assertThat(i.producer(LAYER1_OUT).orElseThrow().getOpType()).isEqualTo("Add");
    List<String> floats = i.floatTensors();
    assertThat(floats).contains(LAYER0_OUT, MASK, LAYER1_OUT, "last_hidden_state");
    assertThat(floats).doesNotContain("/embeddings/Shape_output_0");
    // Every MatMul of the 6 layers (4 attention + 2 FFN each) produces a float tensor.
    assertThat(i.nodes().stream().filter(n -> n.getOpType().equals("MatMul"))).hasSize(48);
    assertThat(new HashSet<>(floats)).hasSameSizeAs(floats);
  }

  @Test
  void markAllFloatRunsInOrtAndMatchesTheOriginalOutput() throws OrtException {
    Map<String, float[]> original = originalRun();
    Map<String, float[]> marked = markedRun();
    List<String> floats = model.index().floatTensors();
    assertThat(marked.keySet()).containsAll(floats);
    assertThat(marked).hasSize(floats.size());
    assertThat(marked.get("last_hidden_state")).containsExactly(original.get("last_hidden_state"));
    assertThat(marked.get(LAYER1_OUT)).hasSize(SEQ * 384);
  }

  @Test
  void extractedEncoderLayerReproducesTheFullModel() throws OrtException {
    OnnxModel layer = Extract.subgraph(model, List.of(LAYER0_OUT, MASK), List.of(LAYER1_OUT));
    assertThat(layer.graph().getNodeList())
        .allMatch(n -> n.getName().contains("/encoder/layer.1/"));
    assertThat(layer.graph().getInputList())
        .extracting(Onnx.ValueInfoProto::getName)
        .containsExactly(LAYER0_OUT, MASK);
    assertThat(layer.graph().getInput(0).getType().getTensorType().getElemType()).isEqualTo(1);
    Map<String, float[]> full = markedRun();
    long[] hiddenShape = {1, SEQ, 384};
    long[] maskShape = {1, 1, 1, SEQ};
    try (OnnxTensor h =
            OnnxTensor.createTensor(env, FloatBuffer.wrap(full.get(LAYER0_OUT)), hiddenShape);
        OnnxTensor m = OnnxTensor.createTensor(env, FloatBuffer.wrap(full.get(MASK)), maskShape)) {
      Map<String, float[]> out = run(layer.toBytes(), Map.of(LAYER0_OUT, h, MASK, m));
      assertThat(maxAbsDiff(out.get(LAYER1_OUT), full.get(LAYER1_OUT))).isLessThan(1e-4);
    }
  }

  @Test
  void sanitizeAndExternalSaveRoundTripRunsTheSame() throws OrtException {
    OnnxModel clean = Sanitize.apply(model);
    assertThat(clean.graph().getNodeCount()).isEqualTo(model.graph().getNodeCount());
    assertThat(clean.graph().getInitializerCount())
        .isLessThanOrEqualTo(model.graph().getInitializerCount());
    Path ext = dir.resolve("ext").resolve("minilm.onnx");
    clean.save(ext, SaveOptions.external());
    assertThat(ext.resolveSibling("minilm.onnx.data")).exists();
    OnnxModel back = OnnxModel.load(ext);
    assertThat(back.index().nodes())
        .extracting(Onnx.NodeProto::getName)
        .containsExactlyElementsOf(
            clean.index().nodes().stream().map(Onnx.NodeProto::getName).toList());
    Map<String, float[]> expected = originalRun();
    assertThat(runPath(ext).get("last_hidden_state"))
        .containsExactly(expected.get("last_hidden_state"));
    // A marked model of the externally stored weights runs from its bytes + folder too.
    Path marked = dir.resolve("ext").resolve("marked.onnx");
    MarkOutputs.tensors(back, List.of(LAYER1_OUT)).save(marked);
    assertThat(runPath(marked).get(LAYER1_OUT)).hasSize(SEQ * 384);
  }

  @Test
  void rangeReportCoversEveryFloatInitializer() {
    InitializerRangeReport r = InitializerRangeReport.of(model);
    long floatInits =
        model.graph().getInitializerList().stream().filter(t -> t.getDataType() == 1).count();
    assertThat(r.rows().stream().filter(row -> row.constantNode().isEmpty()))
        .hasSize((int) floatInits);
    InitializerRangeReport.Row words =
        r.rows().stream()
            .filter(row -> row.name().equals("embeddings.word_embeddings.weight"))
            .findFirst()
            .orElseThrow();
    assertThat(words.elementCount()).isEqualTo(30522L * 384);
    Tensor t = TensorData.toTensor(model.index().initializer(words.name()).orElseThrow(), null);
    double max = 0;
    for (float v : t.toFloatArray()) {
      max = Math.max(max, Math.abs(v));
    }
    assertThat(words.maxAbs()).isEqualTo(max);
    assertThat(r.rows())
        .filteredOn(row -> row.constantNode().isEmpty())
        .allMatch(row -> row.countAboveFp16Max() == 0);
    // Constant nodes are scanned too (issue 15): the attention-mask fill is beyond FP16's range
    assertThat(r.risky())
        .anySatisfy(row -> assertThat(row.constantNode()).isPresent())
        .anySatisfy(row -> assertThat(row.maxAbs()).isGreaterThan(1e38));
    for (int k = 1; k < r.rows().size(); k++) {
      assertThat(r.rows().get(k - 1).countAboveFp16Max())
          .isGreaterThanOrEqualTo(r.rows().get(k).countAboveFp16Max());
    }
  }
}
