package dev.halfbisect.examples;

import dev.halfbisect.api.AmplifyResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.bisect.Amplification.NodeAmplification;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.data.InputGenerator;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The CLIP ViT-B/32 image encoder (patch-32 convolution without bias, class token, positional
 * embedding, ln_pre, 12 pre-LN residual blocks with QuickGELU {@code x * sigmoid(1.702 x)}, ln_post
 * on the class token, projection) at width 64 and a 96x96 image (9 patches + class token). The
 * original investigation tabulated the accuracy of FP32, TF32 and FP16 engines against the
 * framework's output (max abs diff, median rel diff) next to their speed. Here the framework
 * reference is ONNX Runtime FP32; TF32 and speed need TensorRT and print {@code n/a} without it.
 */
public final class ClipVitExample extends AbstractExample {
  static final int WIDTH = 64;
  static final int LAYERS = 12;
  static final int HEADS = 4;
  static final int IMAGE = 96;
  static final int PATCH = 32;
  static final int EMBED = 32;

  public ClipVitExample() {
    super(
        "clip-vit",
        "CLIP ViT-B/32 image encoder (12 pre-LN layers, QuickGELU): accuracy of fp32, tf32, fp16 vs the reference",
        "pixel_values:1x3x" + IMAGE + "x" + IMAGE + ":float32:-1.8..2.1");
  }

  @Override
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  public OnnxModel buildModel() {
    GraphBuilder g = newGraph("clip_vit_b32_visual", 2103);
    int grid = IMAGE / PATCH;
    int tokens = grid * grid + 1;
    String x = "pixel_values";
    try (GraphBuilder.Scope s = g.scope("/conv1")) {
      x =
          g.conv(
              x,
              g.weight(
                  "conv1.weight",
                  new long[] {WIDTH, 3, PATCH, PATCH},
                  (float) (1 / Math.sqrt(3.0 * PATCH * PATCH))),
              null,
              PATCH,
              0,
              1);
      x = g.transpose(g.reshape(x, 1, WIDTH, grid * grid), 0, 2, 1);
    }
    try (GraphBuilder.Scope s = g.scope("/embeddings")) {
      String cls = g.weightNormal("class_embedding", new long[] {1, 1, WIDTH}, 0.5f);
      x = g.concat(1, cls, x);
      x = g.add(x, g.weightNormal("positional_embedding", new long[] {tokens, WIDTH}, 0.1f));
    }
    try (GraphBuilder.Scope s = g.scope("/ln_pre")) {
      x = g.layerNorm(x, WIDTH, 1e-5f, false);
    }
    for (int l = 0; l < LAYERS; l++) {
      try (GraphBuilder.Scope s = g.scope("/transformer/resblocks/resblocks." + l)) {
        String h;
        try (GraphBuilder.Scope t = g.scope("ln_1")) {
          h = g.layerNorm(x, WIDTH, 1e-5f, false);
        }
        try (GraphBuilder.Scope t = g.scope("attn")) {
          h = g.attention(h, WIDTH, HEADS, null);
        }
        x = g.add(x, h);
        try (GraphBuilder.Scope t = g.scope("ln_2")) {
          h = g.layerNorm(x, WIDTH, 1e-5f, false);
        }
        try (GraphBuilder.Scope t = g.scope("mlp/c_fc")) {
          h = g.linear(h, WIDTH, 4 * WIDTH);
        }
        try (GraphBuilder.Scope t = g.scope("mlp/gelu")) {
          h = g.mul(h, g.sigmoid(g.mul(h, g.scalarLike(h, 1.702f))));
        }
        try (GraphBuilder.Scope t = g.scope("mlp/c_proj")) {
          h = g.linear(h, 4 * WIDTH, WIDTH);
        }
        x = g.add(x, h);
      }
    }
    String emb;
    try (GraphBuilder.Scope s = g.scope("/ln_post")) {
      String cls = g.gather(x, g.initializer("cls_index", Tensor.ofLongs(new long[0], 0)), 1);
      emb = g.layerNorm(cls, WIDTH, 1e-5f, false);
    }
    try (GraphBuilder.Scope s = g.scope("/proj")) {
      emb =
          g.matMul(
              emb, g.weight("proj", new long[] {WIDTH, EMBED}, (float) (1 / Math.sqrt(WIDTH))));
    }
    g.output(emb, "image_embeds");
    return g.build();
  }

  @Override
  public ExampleOutcome run(ExampleOptions o) {
    PrintStream out = o.out();
    OnnxModel model = buildModel();
    String output = model.index().graphOutputs().get(0);
    out.println("== clip-vit: " + description());
    out.println(
        "model: "
            + model.graph().getNodeCount()
            + " ONNX nodes, "
            + LAYERS
            + " layers, width "
            + WIDTH);
    Map<String, Tensor> inputs = InputGenerator.generate(inputs(), 1, 21).get(0);
    String referenceSpec = o.reference().orElse("ort:fp32");
    BackendRun reference =
        BackendRun.of(model, referenceSpec, PrecisionPlan.allFp32(), List.of(), inputs, 1);
    boolean trt = trtAvailable();
    String[][] rows =
        trt
            ? new String[][] {{"fp32", "trt:fp32"}, {"tf32", "trt:tf32"}, {"fp16", "trt:fp16"}}
            : new String[][] {{"fp32", "ort:fp32"}, {"tf32", null}, {"fp16", "ort:fp16-emulated"}};
    out.println();
    out.println("Accuracy vs the reference (" + referenceSpec + ") on " + output + ":");
    out.println(
        String.format(
            Locale.ROOT,
            "  %-6s %-20s %14s %16s %18s",
            "mode",
            "backend",
            "max abs diff",
            "median rel diff",
            "latency"));
    Map<String, Object> facts = new LinkedHashMap<>();
    for (String[] row : rows) {
      if (row[1] == null) {
        out.println(
            String.format(
                Locale.ROOT,
                "  %-6s %-20s %14s %16s %18s",
                row[0],
                "n/a (no TensorRT)",
                "n/a",
                "n/a",
                "n/a"));
        facts.put(row[0] + ".maxAbs", "n/a");
        continue;
      }
      PrecisionPlan plan =
          row[0].equals("fp16") ? PrecisionPlan.allFp16() : PrecisionPlan.allFp32();
      BackendRun r = BackendRun.of(model, row[1], plan, List.of(), inputs, trt ? 20 : 1);
      ErrorStats s = ErrorMetrics.compare(reference.floats(output), r.floats(output));
      String latency =
          trt
              ? String.format(Locale.ROOT, "%.3f ms", r.best().toNanos() / 1e6)
              : "n/a (no TensorRT)";
      out.println(
          String.format(
              Locale.ROOT,
              "  %-6s %-20s %14.3e %16.3e %18s",
              row[0],
              row[1],
              s.maxAbs(),
              s.medianRel(),
              latency));
      facts.put(row[0] + ".maxAbs", s.maxAbs());
      facts.put(row[0] + ".medianRel", s.medianRel());
    }

    HalfBisect hb = Investigation.facade(this, o, 21);
    AmplifyResult amp = hb.amplify();
    // A LayerNorm's mean of an already normalized input is ~0, so its relative error says nothing:
    // skip means.
    List<NodeAmplification> top =
        Investigation.topAmplifications(
                amp.unwrap(dev.halfbisect.bisect.Amplification.Result.class).orElseThrow().nodes(),
                40)
            .stream()
            .filter(a -> !a.opType().equals("ReduceMean"))
            .limit(3)
            .toList();
    out.println();
    out.println(
        "FP16 verdict: "
            + (amp.passed() ? "pass" : "FAIL")
            + "; largest amplification (LayerNorm means of ~0 left out):");
    for (NodeAmplification a : top) {
      out.println(
          String.format(
              Locale.ROOT, "  %-50s %-8s x%.1f", a.node(), a.opType(), a.amplification()));
    }
    String ampNode = top.isEmpty() ? "" : top.get(0).node();
    String motif =
        ampNode.isEmpty()
            ? ""
            : ampNode.contains("/ln_")
                ? "LayerNorm"
                : Investigation.scopeOf(ampNode).replaceFirst(".*/resblocks\\.\\d+/", "");
    out.println("Motif: " + motif);
    return new ExampleOutcome(name(), "", "", ampNode, motif, List.of(), amp.passed(), facts);
  }

  private static boolean trtAvailable() {
    Backend b = Backends.all().get("trt");
    return b != null && b.availability().available();
  }
}
