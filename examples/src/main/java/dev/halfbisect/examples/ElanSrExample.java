package dev.halfbisect.examples;

import dev.halfbisect.api.DiagnosisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.bisect.Layerwise.TensorReport;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.InputGenerator;
import dev.halfbisect.core.data.InputSpec;
import dev.halfbisect.core.metrics.ErrorMetrics;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.builder.GraphBuilder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * ELAN-style image super-resolution (x2): reflect padding of the input to a multiple of the largest
 * window, shallow conv, efficient long-range attention blocks (local conv feature extraction, then
 * group-wise multi-scale self-attention: the channels split in three groups attending within 2x2,
 * 4x4 and 8x8 windows, with shared query/key and unscaled {@code q k^T} as in ELAN), crop, conv and
 * DepthToSpace. The original report: FP32 fine, FP16 "overflow" (NaN images). The unscaled
 * attention logits of the planted block exceed 65504; halfbisect finds the MatMul and the FP32 fix.
 * The example also prints the original's table: batch, width, height, latency, throughput and
 * max/median/mean abs and rel differences.
 */
public final class ElanSrExample extends AbstractExample {
  static final int CHANNELS = 24;
  static final int BLOCKS = 4;

  /**
   * The block whose query projection grew large in training: its attention logits overflow FP16.
   */
  static final int PLANTED_BLOCK = 2;

  static final int[] WINDOWS = {2, 4, 8};

  /**
   * Gain of the planted query projection (its weights are this many times the usual init range).
   */
  static final float PLANTED_Q_GAIN = 250f;

  public ElanSrExample() {
    super(
        "elan-sr",
        "ELAN super-resolution x2 (reflect pad, group-wise multi-scale window attention, DepthToSpace): FP32 "
            + "fine, FP16 overflow in unscaled attention logits",
        "lr_image:1x3x12x12:float32:0..1");
  }

  @Override
  public OnnxModel buildModel() {
    return build(1, 12, 12);
  }

  /**
   * The model for a {@code batch x 3 x height x width} low-resolution input (sizes <= 16 after
   * padding).
   */
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  static OnnxModel build(int batch, int height, int width) {
    int ph = (height + 7) / 8 * 8;
    int pw = (width + 7) / 8 * 8;
    GraphBuilder g = GraphBuilder.create("elan_sr_x2", OPSET).seed(2022);
    String x = g.input("lr_image", DType.FLOAT32, batch, 3, height, width);
    try (GraphBuilder.Scope s = g.scope("/check_image_size")) {
      x = g.pad(x, "reflect", 0, 0, 0, 0, 0, 0, ph - height, pw - width);
    }
    try (GraphBuilder.Scope s = g.scope("/head")) {
      x = conv(g, "head", x, 3, CHANNELS, 3, 1f);
    }
    for (int b = 0; b < BLOCKS; b++) {
      try (GraphBuilder.Scope s = g.scope("/body/body." + b)) {
        String y;
        try (GraphBuilder.Scope t = g.scope("lfe")) {
          y = conv(g, "body." + b + ".lfe.conv0", x, CHANNELS, CHANNELS, 3, 1f);
          y = conv(g, "body." + b + ".lfe.conv1", g.relu(y), CHANNELS, CHANNELS, 3, 1f);
          x = g.add(x, y);
        }
        try (GraphBuilder.Scope t = g.scope("gmsa")) {
          x =
              g.add(
                  x,
                  gmsa(
                      g,
                      "body." + b + ".gmsa",
                      x,
                      batch,
                      ph,
                      pw,
                      b == PLANTED_BLOCK ? PLANTED_Q_GAIN : 1f));
        }
      }
    }
    String out;
    try (GraphBuilder.Scope s = g.scope("/tail")) {
      x =
          g.slice(
              x,
              new long[] {0, 0},
              new long[] {height, width},
              new long[] {2, 3},
              new long[] {1, 1});
      x = conv(g, "tail", x, CHANNELS, 3 * 4, 3, 1f);
      out = g.depthToSpace(x, 2);
    }
    g.output(out, "sr_image");
    return g.build();
  }

  private static String conv(
      GraphBuilder g, String param, String x, int in, int out, int k, float gain) {
    float bound = gain * (float) (1 / Math.sqrt((double) in * k * k));
    return g.conv(
        x,
        g.weight(param + ".weight", new long[] {out, in, k, k}, bound),
        g.weight(param + ".bias", new long[] {out}, 0.01f),
        1,
        k / 2,
        1);
  }

  /** Group-wise multi-scale self-attention: one group of channels per window size. */
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  private static String gmsa(
      GraphBuilder g, String param, String x, int batch, int h, int w, float qGain) {
    String q = conv(g, param + ".project_inp", x, CHANNELS, CHANNELS, 1, qGain);
    int group = CHANNELS / WINDOWS.length;
    List<String> qs = g.split(q, 1, group, group, group);
    List<String> vs = g.split(x, 1, group, group, group);
    List<String> outs = new ArrayList<>();
    for (int i = 0; i < WINDOWS.length; i++) {
      try (GraphBuilder.Scope s = g.scope("window" + WINDOWS[i])) {
        int ws = WINDOWS[i];
        String qw = windows(g, qs.get(i), batch, group, h, w, ws);
        String vw = windows(g, vs.get(i), batch, group, h, w, ws);
        String logits = g.matMul(qw, g.transpose(qw, 0, 2, 1)); // unscaled, as in ELAN
        String y = g.matMul(g.softmax(logits, -1), vw);
        outs.add(unwindows(g, y, batch, group, h, w, ws));
      }
    }
    return conv(
        g,
        param + ".project_out",
        g.concat(1, outs.toArray(new String[0])),
        CHANNELS,
        CHANNELS,
        1,
        1f);
  }

  /** [B, C, H, W] -> [B * windows, ws*ws, C]. */
  private static String windows(GraphBuilder g, String x, int b, int c, int h, int w, int ws) {
    String r = g.reshape(x, b, c, h / ws, ws, w / ws, ws);
    return g.reshape(
        g.transpose(r, 0, 2, 4, 3, 5, 1), (long) b * (h / ws) * (w / ws), (long) ws * ws, c);
  }

  private static String unwindows(GraphBuilder g, String x, int b, int c, int h, int w, int ws) {
    String r = g.reshape(x, b, h / ws, w / ws, ws, ws, c);
    return g.reshape(g.transpose(r, 0, 5, 1, 3, 2, 4), b, c, h, w);
  }

  @Override
  public ExampleOutcome run(ExampleOptions o) {
    PrintStream out = o.out();
    String ref = o.reference().orElse("ort:fp32");
    String cand = o.candidate().orElse("ort:fp16-emulated");
    out.println("== elan-sr: " + description());
    out.println(
        "reference " + ref + ", candidate " + cand + " (latency: best of 5 runs of the candidate)");
    out.println(
        String.format(
            Locale.ROOT,
            "%5s %5s %6s %10s %11s %10s %10s %10s %10s %10s %10s",
            "batch",
            "width",
            "height",
            "latency",
            "throughput",
            "maxAbs",
            "medianAbs",
            "meanAbs",
            "maxRel",
            "medianRel",
            "meanRel"));
    Map<String, Object> facts = new LinkedHashMap<>();
    int[][] sizes = {{1, 12, 12}, {1, 16, 16}, {2, 12, 12}};
    for (int[] sz : sizes) {
      OnnxModel m = build(sz[0], sz[2], sz[1]);
      InputSpec spec =
          InputSpec.parse("lr_image:" + sz[0] + "x3x" + sz[2] + "x" + sz[1] + ":float32:0..1");
      Map<String, Tensor> in = InputGenerator.generate(List.of(spec), 1, 31).get(0);
      BackendRun r = BackendRun.of(m, ref, PrecisionPlan.allFp32(), List.of(), in, 1);
      BackendRun c = BackendRun.of(m, cand, PrecisionPlan.allFp16(), List.of(), in, 5);
      ErrorStats s = ErrorMetrics.compare(r.floats("sr_image"), c.floats("sr_image"));
      double ms = c.best().toNanos() / 1e6;
      boolean broken = s.nonFiniteWhereRefFinite() > 0;
      out.println(
          String.format(
              Locale.ROOT,
              "%5d %5d %6d %8.2fms %9.1f/s %10s %10s %10s %10s %10s %10s",
              sz[0],
              sz[1],
              sz[2],
              ms,
              sz[0] * 1000 / ms,
              v(s.maxAbs(), broken),
              v(s.medianAbs(), broken),
              v(s.meanAbs(), broken),
              v(s.maxRel(), broken),
              v(s.medianRel(), broken),
              v(s.meanRel(), broken)));
      facts.put(
          "nonFinite." + sz[0] + "x" + sz[1] + "x" + sz[2], (double) s.nonFiniteWhereRefFinite());
    }

    HalfBisect hb = Investigation.facade(this, o, 31);
    DiagnosisResult d = hb.diagnose();
    Optional<TensorReport> first =
        d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().firstFailing();
    out.println();
    out.println("First divergent node: " + Investigation.describe(first));
    List<String> overflowing =
        d.unwrap(dev.halfbisect.bisect.Layerwise.Result.class).orElseThrow().tensors().stream()
            .filter(
                t ->
                    Investigation.stats(t).nonFiniteWhereRefFinite() > 0
                        && Investigation.stats(t).refMaxAbs() > 65504)
            .map(TensorReport::node)
            .toList();
    out.println("Nodes whose FP32 output exceeds 65504 (overflow in FP16): " + overflowing);
    Optional<PrecisionSearch.Result> pr = d.unwrap(PrecisionSearch.Result.class);
    List<String> fix = pr.map(p -> List.copyOf(p.plan().fp32Nodes())).orElse(List.of());
    boolean passes = pr.map(PrecisionSearch.Result::found).orElse(d.passed());
    out.println("FP32 fix: " + fix + (passes ? " -> passes" : " -> still fails"));
    facts.put("overflowingNodes", String.join(",", overflowing));
    return new ExampleOutcome(
        name(),
        first.map(TensorReport::node).orElse(""),
        first.map(TensorReport::opType).orElse(""),
        "",
        "unscaled attention logits q k^T",
        fix,
        passes,
        facts);
  }

  private static String v(double x, boolean broken) {
    return broken ? "NaN" : String.format(Locale.ROOT, "%.3e", x);
  }
}
