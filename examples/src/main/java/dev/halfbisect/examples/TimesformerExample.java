package dev.halfbisect.examples;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.api.DiagnosisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.bisect.Amplification.NodeAmplification;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.Layerwise.TensorReport;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * TimeSformer (divided space-time attention) whose FP16 engine drifts block by block: the original
 * investigation compared FP32 and FP16 after temporal attention, spatial attention, FC1, GELU, FC2
 * and the block output of all 12 blocks by hand, found the error growing along the residual stream
 * and magnified in the MLP, and kept LayerNorm in FP32.
 *
 * <p>The model keeps the architecture and PyTorch export naming (12 blocks, {@code temporal_norm1},
 * {@code temporal_attn}, {@code temporal_fc}, {@code norm1}, {@code attn}, {@code norm2}, {@code
 * mlp/fc1}, {@code mlp/act} (Erf GELU), {@code mlp/fc2}; LayerNorm decomposed at opset 13) at a
 * CPU-friendly size: 8 frames of 4x4 patches (8x8 pixels each), width 32, 4 heads. The planted
 * problem is an outlier channel of the residual stream: every block's FC2 bias adds {@value
 * #OUTLIER_STEP} to channel {@value #OUTLIER_CHANNEL}, so the stream grows block by block and from
 * block {@value #FIRST_OVERFLOW_BLOCK} on a LayerNorm sees |x - mean| above 256, whose square
 * overflows FP16 in {@code Pow}. The FC1 bias is negative so that most GELU inputs sit where {@code
 * 1 + erf(x / sqrt 2)} cancels, the classic FP16 magnifier.
 */
public final class TimesformerExample extends AbstractExample {
  static final int BLOCKS = 12;
  static final int FRAMES = 8;
  static final int PATCHES = 16;
  static final int PATCH = 8;
  static final int WIDTH = 32;
  static final int HEADS = 4;
  static final int OUTLIER_CHANNEL = 7;
  static final float OUTLIER_STEP = 37f;

  /** The first block whose LayerNorm input has |x - mean| > 256 on the default input. */
  static final int FIRST_OVERFLOW_BLOCK = 7;

  static final String[] STAGES = {"T-attn", "S-attn", "FC1", "GELU", "FC2", "block"};

  /** The model plus the tensors of the 12 x 6 table (block -> stage -> tensor name). */
  record Built(OnnxModel model, List<String[]> stageTensors) {}

  public TimesformerExample() {
    super(
        "timesformer",
        "TimeSformer, 12 divided space-time blocks: a residual outlier channel grows until decomposed "
            + "LayerNorm's Pow overflows FP16; GELU magnifies the drift",
        "video:" + FRAMES + "x3x32x32:float32:-1..1");
  }

  @Override
  public OnnxModel buildModel() {
    return build().model();
  }

  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  Built build() {
    GraphBuilder g = newGraph("timesformer", 2021);
    String video = "video";
    String x;
    try (GraphBuilder.Scope s = g.scope("/patch_embed/proj")) {
      String w =
          g.weight(
              "patch_embed.proj.weight",
              new long[] {WIDTH, 3, PATCH, PATCH},
              (float) (1 / Math.sqrt(3.0 * PATCH * PATCH)));
      float[] b = new float[WIDTH];
      b[OUTLIER_CHANNEL] = 12f;
      x =
          g.conv(
              video,
              w,
              g.initializer("patch_embed.proj.bias", Tensor.ofFloats(new long[] {WIDTH}, b)),
              PATCH,
              0,
              1);
    }
    try (GraphBuilder.Scope s = g.scope("/embed")) {
      x = g.transpose(g.reshape(x, FRAMES, WIDTH, PATCHES), 0, 2, 1); // [T, N, D]
      x = g.add(x, g.weightNormal("pos_embed", new long[] {PATCHES, WIDTH}, 0.02f));
      x = g.add(x, g.weightNormal("time_embed", new long[] {FRAMES, 1, WIDTH}, 0.02f));
      x = g.reshape(x, 1, FRAMES * PATCHES, WIDTH); // [1, T*N, D], frame-major
    }
    List<String[]> stages = new ArrayList<>();
    for (int b = 0; b < BLOCKS; b++) {
      String[] st = new String[STAGES.length];
      try (GraphBuilder.Scope s = g.scope("/blocks/blocks." + b)) {
        x = block(g, b, x, st);
      }
      stages.add(st);
    }
    String logits;
    try (GraphBuilder.Scope s = g.scope("/norm")) {
      x = g.layerNorm(x, WIDTH, 1e-6f, false);
    }
    try (GraphBuilder.Scope s = g.scope("/head")) {
      String pooled = g.reduceMean(x, new long[] {1}, false);
      logits =
          g.add(
              g.matMul(pooled, g.weight("head.weight", new long[] {WIDTH, 10}, 0.2f)),
              g.weight("head.bias", new long[] {10}, 0.02f));
    }
    g.output(logits, "logits");
    return new Built(g.build(), ImmutableList.copyOf(stages));
  }

  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  private static String block(GraphBuilder g, int b, String x, String[] st) {
    String p = "blocks." + b + ".";
    // Temporal attention: tokens of one patch position across the 8 frames.
    String xt =
        g.reshape(
            g.transpose(g.reshape(x, 1, FRAMES, PATCHES, WIDTH), 0, 2, 1, 3),
            PATCHES,
            FRAMES,
            WIDTH);
    String t;
    try (GraphBuilder.Scope s = g.scope("temporal_norm1")) {
      t = g.layerNorm(xt, WIDTH, 1e-6f, false);
    }
    try (GraphBuilder.Scope s = g.scope("temporal_attn")) {
      t = g.attention(t, WIDTH, HEADS, null);
    }
    try (GraphBuilder.Scope s = g.scope("temporal_fc")) {
      t = dense(g, p + "temporal_fc", t, WIDTH, WIDTH, 0f, -1);
      st[0] = t;
    }
    t =
        g.reshape(
            g.transpose(g.reshape(t, 1, PATCHES, FRAMES, WIDTH), 0, 2, 1, 3),
            1,
            FRAMES * PATCHES,
            WIDTH);
    x = g.add(x, t);
    // Spatial attention: the 16 patches of one frame.
    String sp = g.reshape(x, FRAMES, PATCHES, WIDTH);
    try (GraphBuilder.Scope s = g.scope("norm1")) {
      sp = g.layerNorm(sp, WIDTH, 1e-6f, false);
    }
    try (GraphBuilder.Scope s = g.scope("attn")) {
      sp = g.attention(sp, WIDTH, HEADS, null);
      st[1] = sp;
    }
    x = g.add(x, g.reshape(sp, 1, FRAMES * PATCHES, WIDTH));
    // MLP: FC1 - GELU(Erf) - FC2.
    String m;
    try (GraphBuilder.Scope s = g.scope("norm2")) {
      m = g.layerNorm(x, WIDTH, 1e-6f, false);
    }
    try (GraphBuilder.Scope s = g.scope("mlp/fc1")) {
      m = dense(g, p + "mlp.fc1", m, WIDTH, 4 * WIDTH, -2.5f, -1);
      st[2] = m;
    }
    try (GraphBuilder.Scope s = g.scope("mlp/act")) {
      m = g.geluErf(m);
      st[3] = m;
    }
    try (GraphBuilder.Scope s = g.scope("mlp/fc2")) {
      m = dense(g, p + "mlp.fc2", m, 4 * WIDTH, WIDTH, 0f, OUTLIER_CHANNEL);
      st[4] = m;
    }
    x = g.add(x, m);
    st[5] = x;
    return x;
  }

  /**
   * {@code x @ W + b}, W uniform in +-1/sqrt(in), b uniform in +-0.02 shifted by {@code biasShift};
   * {@code outlier >= 0} adds the planted step to that output channel's bias.
   */
  private static String dense(
      GraphBuilder g, String param, String x, int in, int out, float biasShift, int outlier) {
    String w = g.weight(param + ".weight", new long[] {in, out}, (float) (1 / Math.sqrt(in)));
    float[] bias = Seeded.uniform(param + ".bias", out, 0.02f);
    for (int i = 0; i < out; i++) {
      bias[i] += biasShift;
    }
    if (outlier >= 0) {
      bias[outlier] += OUTLIER_STEP;
    }
    return g.add(
        g.matMul(x, w), g.initializer(param + ".bias", Tensor.ofFloats(new long[] {out}, bias)));
  }

  @Override
  public ExampleOutcome run(ExampleOptions o) {
    PrintStream out = o.out();
    Built built = build();
    HalfBisect hb = Investigation.facade(this, o, 1);
    out.println("== timesformer: " + description());
    out.println(
        "model: "
            + built.model().graph().getNodeCount()
            + " ONNX nodes, opset "
            + built.model().opsetVersion()
            + "; reference "
            + hb.referenceSpec()
            + ", candidate "
            + hb.candidateSpec());
    DiagnosisResult d = hb.diagnose();
    Layerwise.Result lw = d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow();
    Map<String, TensorReport> byTensor =
        lw.tensors().stream()
            .collect(Collectors.toMap(TensorReport::tensor, Function.identity(), (a, b) -> a));

    out.println();
    out.println(
        "Normalized error ||fp16 - fp32|| / ||fp32|| after each stage (layerwise, one run, all tensors observed):");
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-6s", "block"));
    for (String s : STAGES) {
      head.append(String.format(Locale.ROOT, " %9s", s));
    }
    out.println(head);
    double[][] table = new double[BLOCKS][STAGES.length];
    for (int b = 0; b < BLOCKS; b++) {
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-6d", b));
      for (int k = 0; k < STAGES.length; k++) {
        TensorReport t = byTensor.get(built.stageTensors().get(b)[k]);
        table[b][k] = t == null ? Double.NaN : Investigation.stats(t).normalizedError();
        row.append(String.format(Locale.ROOT, " %9s", Investigation.err(table[b][k])));
      }
      out.println(row);
    }

    Optional<TensorReport> first = lw.firstFailing();
    out.println();
    out.println("First divergent node: " + Investigation.describe(first));
    dev.halfbisect.bisect.Amplification.Result amp =
        d.unwrap(dev.halfbisect.bisect.Amplification.Result.class).orElseThrow();
    List<NodeAmplification> top = Investigation.topAmplifications(amp.nodes(), 5);
    out.println("Largest amplification (output error / worst input error):");
    for (NodeAmplification a : top) {
      out.println(
          String.format(
              Locale.ROOT,
              "  %-44s %-10s x%-8.1f in %s -> out %s, local %s",
              a.node(),
              a.opType(),
              a.amplification(),
              Investigation.err(a.inputError()),
              Investigation.err(a.outputError()),
              Investigation.err(a.localError())));
    }
    String ampNode = top.isEmpty() ? "" : top.get(0).node();
    String motif = ampNode.isEmpty() ? "" : motifOf(ampNode);
    out.println(
        "Amplification is largest in "
            + (motif.isEmpty() ? "no node" : motif + " (" + ampNode + ")"));

    Optional<PrecisionSearch.Result> pr = d.unwrap(PrecisionSearch.Result.class);
    List<String> fix = pr.map(r -> List.copyOf(r.plan().fp32Nodes())).orElse(List.of());
    boolean fixPasses = pr.map(PrecisionSearch.Result::found).orElse(d.passed());
    out.println(
        "FP32 fix (precision search): "
            + fix.size()
            + " node(s) in FP32, "
            + (fixPasses ? "candidate passes" : "candidate still fails")
            + pr.map(
                    r ->
                        String.format(
                            Locale.ROOT,
                            ", %.1f%% of float nodes stay FP16",
                            100 * r.fp16Fraction()))
                .orElse(""));
    for (String n : fix) {
      out.println("  " + n);
    }

    Map<String, Object> facts = new LinkedHashMap<>();
    for (int b = 0; b < BLOCKS; b++) {
      for (int k = 0; k < STAGES.length; k++) {
        facts.put("block" + b + "." + STAGES[k], table[b][k]);
      }
    }
    facts.put("firstDivergentBlock", first.map(t -> blockOf(t.node())).orElse(-1));
    facts.put(
        "outputNormalizedError",
        Investigation.stats(Investigation.tensor(lw, "logits")).normalizedError());
    return new ExampleOutcome(
        name(),
        first.map(TensorReport::node).orElse(""),
        first.map(TensorReport::opType).orElse(""),
        ampNode,
        motif,
        fix,
        fixPasses,
        facts);
  }

  /**
   * The named part of a block a node belongs to, e.g. {@code GELU (mlp/act)} or {@code LayerNorm
   * (norm2)}.
   */
  static String motifOf(String node) {
    String scope = Investigation.scopeOf(node);
    String part = scope.replaceFirst("^/blocks/blocks\\.\\d+/", "");
    if (part.equals("mlp/act")) {
      return "GELU (mlp/act)";
    }
    if (part.endsWith("norm1") || part.endsWith("norm2") || part.equals("/norm")) {
      return "LayerNorm (" + part + ")";
    }
    if (part.contains("attn")) {
      return "attention (" + part + ")";
    }
    return part;
  }

  /** Block index of {@code /blocks/blocks.K/...}, -1 outside the blocks. */
  static int blockOf(String node) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("^/blocks/blocks\\.(\\d+)/").matcher(node);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }
}
