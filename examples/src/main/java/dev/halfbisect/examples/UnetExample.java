package dev.halfbisect.examples;

import dev.halfbisect.api.CompareResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.InputGenerator;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A U-Net segmentation model (Conv + BatchNorm + ReLU stages, MaxPool down, nearest upsample, skip
 * Concat). The original investigation counted, per layer type, how many outputs deviate by more
 * than 10% in FP16 (about 0.9% after Conv, 0.014% after BN, 0.0075% after ReLU) and was puzzled
 * that marking layers as outputs changed TensorRT's numbers. This example computes the same shares
 * on FP16 emulation, and runs the candidate twice (only the output observed, every tensor observed)
 * to show that observing does not change emulated numbers: on TensorRT it can, because a marked
 * tensor stops Conv+BN+ReLU fusion.
 */
public final class UnetExample extends AbstractExample {
  static final String[] TYPES = {"Conv", "BatchNormalization", "Relu"};

  public UnetExample() {
    super(
        "unet",
        "U-Net (Conv+BN+ReLU encoder-decoder with skips): share of outputs deviating >10% per layer type, "
            + "and whether observing tensors changes the numbers",
        "image:1x3x32x32:float32:0..1");
  }

  @Override
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  public OnnxModel buildModel() {
    GraphBuilder g = newGraph("unet", 2018);
    String e1 = stage(g, "/enc1", "image", 3, 16);
    String e2 = stage(g, "/enc2", pool(g, "/pool1", e1), 16, 32);
    String mid = stage(g, "/bottleneck", pool(g, "/pool2", e2), 32, 64);
    String d2 = stage(g, "/dec2", up(g, "/up2", mid, e2), 96, 32);
    String d1 = stage(g, "/dec1", up(g, "/up1", d2, e1), 48, 16);
    String logits;
    try (GraphBuilder.Scope s = g.scope("/head")) {
      logits =
          g.conv(
              d1,
              g.weight("head.weight", new long[] {1, 16, 1, 1}, 0.25f),
              g.weight("head.bias", new long[] {1}, 0.1f),
              1,
              0,
              1);
    }
    g.output(logits, "mask_logits");
    return g.build();
  }

  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  private static String stage(GraphBuilder g, String scope, String x, int in, int out) {
    try (GraphBuilder.Scope s = g.scope(scope)) {
      String y;
      try (GraphBuilder.Scope c = g.scope("block1")) {
        y = g.convBnRelu(x, in, out, 3, 1, 1);
      }
      try (GraphBuilder.Scope c = g.scope("block2")) {
        return g.convBnRelu(y, out, out, 3, 1, 1);
      }
    }
  }

  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  private static String pool(GraphBuilder g, String scope, String x) {
    try (GraphBuilder.Scope s = g.scope(scope)) {
      return g.maxPool(x, 2, 2, 0);
    }
  }

  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  private static String up(GraphBuilder g, String scope, String x, String skip) {
    try (GraphBuilder.Scope s = g.scope(scope)) {
      return g.concat(1, g.resize(x, "nearest", 1f, 1f, 2f, 2f), skip);
    }
  }

  @Override
  public ExampleOutcome run(ExampleOptions o) {
    PrintStream out = o.out();
    OnnxModel model = buildModel();
    GraphIndex index = model.index();
    String ref = o.reference().orElse("ort:fp32");
    String cand = o.candidate().orElse("ort:fp16-emulated");
    out.println("== unet: " + description());
    out.println(
        "model: "
            + model.graph().getNodeCount()
            + " ONNX nodes; reference "
            + ref
            + ", candidate "
            + cand);

    List<String> observed = new ArrayList<>();
    Map<String, String> opOf = new LinkedHashMap<>();
    for (Onnx.NodeProto n : index.nodes()) {
      for (String t : TYPES) {
        if (n.getOpType().equals(t)) {
          observed.add(n.getOutput(0));
          opOf.put(n.getOutput(0), t);
        }
      }
    }
    Map<String, Tensor> inputs = InputGenerator.generate(inputs(), 1, 5).get(0);
    BackendRun r = BackendRun.of(model, ref, PrecisionPlan.allFp32(), observed, inputs, 1);
    BackendRun c = BackendRun.of(model, cand, PrecisionPlan.allFp16(), observed, inputs, 1);

    Map<String, Object> facts = new LinkedHashMap<>();
    out.println();
    out.println("Outputs deviating more than 10% (|fp16 - fp32| / |fp32|), by layer type:");
    out.println(
        String.format(
            Locale.ROOT,
            "  %-20s %7s %10s %10s %9s",
            "layer type",
            "layers",
            "elements",
            ">10%",
            "share"));
    for (String t : TYPES) {
      long n = 0;
      double over = 0;
      int layers = 0;
      for (Map.Entry<String, String> e : opOf.entrySet()) {
        if (!e.getValue().equals(t)) {
          continue;
        }
        ErrorStats s = ErrorMetrics.compare(r.floats(e.getKey()), c.floats(e.getKey()));
        n += s.elements();
        over += s.fractionRelOver10pct() * s.elements();
        layers++;
      }
      double share = n == 0 ? 0 : over / n;
      facts.put("share." + t, share);
      out.println(
          String.format(
              Locale.ROOT,
              "  %-20s %7d %10d %10d %8.4f%%",
              t,
              layers,
              n,
              Math.round(over),
              100 * share));
    }

    // Observing every tensor vs only the graph output: same numbers on emulation.
    String output = index.graphOutputs().get(0);
    BackendRun onlyOut = BackendRun.of(model, cand, PrecisionPlan.allFp16(), List.of(), inputs, 1);
    BackendRun refOut = BackendRun.of(model, ref, PrecisionPlan.allFp32(), List.of(), inputs, 1);
    ErrorStats plain = ErrorMetrics.compare(refOut.floats(output), onlyOut.floats(output));
    ErrorStats marked = ErrorMetrics.compare(r.floats(output), c.floats(output));
    out.println();
    out.println(
        "Output "
            + output
            + " with only the output observed:    normalized error "
            + Investigation.err(plain.normalizedError())
            + ", max abs "
            + Investigation.err(plain.maxAbs()));
    out.println(
        "Output "
            + output
            + " with "
            + observed.size()
            + " tensors observed: normalized error "
            + Investigation.err(marked.normalizedError())
            + ", max abs "
            + Investigation.err(marked.maxAbs()));
    boolean same =
        plain.normalizedError() == marked.normalizedError() && plain.maxAbs() == marked.maxAbs();
    out.println(
        same
            ? "Identical: FP16 emulation rounds every node's output whether observed or not. On TensorRT, marking a "
                + "Conv or BN output as an engine output stops Conv+BN+ReLU fusion, so the FP16 engine itself changes; "
                + "compare with trt:fp16 on a GPU to see it."
            : "Observing changed the numbers (this backend fuses layers differently when tensors are marked).");
    facts.put("observingChangesNumbers", same ? "no" : "yes");
    facts.put("outputNormalizedError", plain.normalizedError());

    HalfBisect hb = Investigation.facade(this, o, 5);
    CompareResult cr = hb.compare();
    out.println(
        "Verdict on the output (default FP16 tolerance): "
            + (cr.passed() ? "pass" : "FAIL")
            + " - "
            + Investigation.describeOne(
                cr.unwrap(dev.halfbisect.bisect.Layerwise.Result.class)
                    .orElseThrow()
                    .tensors()
                    .get(0)));
    return new ExampleOutcome(name(), "", "", "", "Conv+BN+ReLU", List.of(), cr.passed(), facts);
  }
}
