package dev.halfbisect.examples;

import dev.halfbisect.api.DiagnosisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.bisect.Layerwise.TensorReport;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.InitializerRangeReport;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A detector of the DETR family: CNN backbone, transformer encoder, box-regression head. The
 * original model worked in FP32 and produced NaN boxes in FP16; the cause was one module trained
 * into huge weights (compensated by a tiny layer scale after it), whose values exceed 65504 and
 * become infinite in FP16. The example prints the initializer range report, which points at the
 * weights, then bisects the activations to the module and finds the FP32 fix.
 */
public final class CnnTransformerExample extends AbstractExample {
  static final int WIDTH = 32;
  static final int LAYERS = 3;

  /** The encoder layer whose FFN output projection was planted with huge weights. */
  static final int PLANTED_LAYER = 1;

  static final float PLANTED_SCALE = 2.5e5f;
  static final String PLANTED_WEIGHT = "transformer.layers." + PLANTED_LAYER + ".linear2.weight";

  public CnnTransformerExample() {
    super(
        "cnn-transformer",
        "CNN backbone -> transformer encoder -> box head, one FFN with weights beyond 65504 (scaled back by a "
            + "layer scale): NaN boxes in FP16",
        "image:1x3x32x32:float32:0..1");
  }

  @Override
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  public OnnxModel buildModel() {
    GraphBuilder g = newGraph("cnn_transformer", 2020);
    String x = "image";
    try (GraphBuilder.Scope s = g.scope("/backbone/layer1")) {
      x = g.convBnRelu(x, 3, 16, 3, 2, 1);
    }
    try (GraphBuilder.Scope s = g.scope("/backbone/layer2")) {
      x = g.convBnRelu(x, 16, WIDTH, 3, 2, 1);
    }
    try (GraphBuilder.Scope s = g.scope("/input_proj")) {
      x = g.transpose(g.reshape(x, 1, WIDTH, 64), 0, 2, 1); // [1, 64 tokens, WIDTH]
      x = g.add(x, g.weightNormal("pos_embed", new long[] {64, WIDTH}, 0.1f));
    }
    for (int l = 0; l < LAYERS; l++) {
      try (GraphBuilder.Scope s = g.scope("/transformer/layers." + l)) {
        String a;
        try (GraphBuilder.Scope t = g.scope("self_attn")) {
          a = g.attention(x, WIDTH, 4, null);
        }
        try (GraphBuilder.Scope t = g.scope("norm1")) {
          x = g.layerNorm(g.add(x, a), WIDTH, 1e-5f, false);
        }
        String f;
        try (GraphBuilder.Scope t = g.scope("linear1")) {
          f = g.relu(g.linear(x, WIDTH, 4 * WIDTH));
        }
        boolean planted = l == PLANTED_LAYER;
        try (GraphBuilder.Scope t = g.scope("linear2")) {
          // The planted module: weights PLANTED_SCALE times too large (max |w| ~ 1.2e5), undone by
          // the layer scale.
          float scale = planted ? PLANTED_SCALE : 1f;
          float bound = (float) (scale / Math.sqrt(4 * WIDTH));
          String w =
              g.weight(
                  "transformer.layers." + l + ".linear2.weight",
                  new long[] {4 * WIDTH, WIDTH},
                  bound * 5.5f);
          f =
              g.add(
                  g.matMul(f, w),
                  g.weight("transformer.layers." + l + ".linear2.bias", new long[] {WIDTH}, bound));
        }
        try (GraphBuilder.Scope t = g.scope("layer_scale")) {
          float gamma = l == PLANTED_LAYER ? 1f / PLANTED_SCALE : 1f;
          f =
              g.mul(
                  f,
                  g.initializer(
                      "transformer.layers." + l + ".gamma",
                      Tensor.ofFloats(new long[] {WIDTH}, filled(WIDTH, gamma / 5.5f))));
        }
        try (GraphBuilder.Scope t = g.scope("norm2")) {
          x = g.layerNorm(g.add(x, f), WIDTH, 1e-5f, false);
        }
      }
    }
    String boxes;
    try (GraphBuilder.Scope s = g.scope("/bbox_head")) {
      String pooled = g.reduceMean(x, new long[] {1}, false);
      boxes = g.sigmoid(g.linear(pooled, WIDTH, 4));
    }
    g.output(boxes, "boxes");
    return g.build();
  }

  private static float[] filled(int n, float v) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  @Override
  public ExampleOutcome run(ExampleOptions o) {
    PrintStream out = o.out();
    OnnxModel model = buildModel();
    out.println("== cnn-transformer: " + description());
    InitializerRangeReport ranges = InitializerRangeReport.of(model);
    out.println("Initializer range report (worst first):");
    out.println(ranges.format(5));
    List<InitializerRangeReport.Row> overflowing =
        ranges.rows().stream().filter(r -> r.countAboveFp16Max() > 0).toList();
    for (InitializerRangeReport.Row r : overflowing) {
      out.println(
          String.format(
              Locale.ROOT,
              "  %s: %d of %d values above 65504 (max |w| %.4g): they become inf in FP16",
              r.name(),
              r.countAboveFp16Max(),
              r.elementCount(),
              r.maxAbs()));
    }

    HalfBisect hb = Investigation.facade(this, o, 11);
    DiagnosisResult d = hb.diagnose();
    TensorReport output =
        Investigation.tensor(
            d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow(), "boxes");
    out.println("Output: " + Investigation.describeOne(output));
    Optional<TensorReport> first =
        d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().firstFailing();
    out.println("First divergent node: " + Investigation.describe(first));
    String module =
        first.map(t -> Investigation.scopeOf(Investigation.scopeOf(t.node()) + "/x")).orElse("");
    out.println("Module: " + module);
    Optional<PrecisionSearch.Result> pr = d.unwrap(PrecisionSearch.Result.class);
    List<String> fix = pr.map(r -> List.copyOf(r.plan().fp32Nodes())).orElse(List.of());
    boolean passes = pr.map(PrecisionSearch.Result::found).orElse(d.passed());
    out.println("FP32 fix: " + fix + (passes ? " -> passes" : " -> still fails"));

    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put(
        "overflowingInitializers",
        String.join(",", overflowing.stream().map(InitializerRangeReport.Row::name).toList()));
    facts.put("outputNonFinite", (double) Investigation.stats(output).nonFiniteWhereRefFinite());
    facts.put("module", module);
    return new ExampleOutcome(
        name(),
        first.map(TensorReport::node).orElse(""),
        first.map(TensorReport::opType).orElse(""),
        "",
        "weights beyond FP16 range",
        fix,
        passes,
        facts);
  }
}
