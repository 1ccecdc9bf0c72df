package dev.halfbisect.report;

import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.report.blocks.BlockDetector;
import dev.halfbisect.report.blocks.BlockId;
import dev.halfbisect.report.mapping.RootCauseAnalyzer;
import dev.halfbisect.report.model.AnalysisReport;
import dev.halfbisect.report.model.BackendPair;
import dev.halfbisect.report.model.FirstFailing;
import dev.halfbisect.report.model.InputError;
import dev.halfbisect.report.model.NodeRow;
import dev.halfbisect.report.model.PlanView;
import dev.halfbisect.report.model.TensorRow;
import dev.halfbisect.report.model.ToleranceView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A realistic diagnose report of a 12-block ViT / TimeSformer-like model exported by torch.onnx at
 * opset 11 (decomposed LayerNorm, Erf-GELU): the error grows slowly along the blocks, the LayerNorm
 * Pow of block 9 overflows (reference |x| up to 1.3e5), and everything after fails.
 */
public final class SampleReports {
  private SampleReports() {}

  public static final String FIRST_FAILING_NODE = "/blocks/blocks.9/norm2/Pow";
  public static final List<String> FP32 =
      List.of("/blocks/blocks.9/norm2/Pow", "/blocks/blocks.9/norm2/ReduceMean_1");

  private record N(String node, String op, String motif) {}

  private static List<N> block(int i) {
    String p = "/blocks/blocks." + i;
    List<N> n = new ArrayList<>();
    norm(n, p + "/norm1");
    for (String[] a :
        new String[][] {
          {"/attn/qkv/MatMul", "MatMul", "Linear"},
          {"/attn/qkv/Add", "Add", "Linear"},
          {"/attn/Reshape", "Reshape", "Attention"},
          {"/attn/Transpose", "Transpose", "Attention"},
          {"/attn/MatMul", "MatMul", "Attention"},
          {"/attn/Mul", "Mul", "Attention"},
          {"/attn/Softmax", "Softmax", "Attention"},
          {"/attn/MatMul_1", "MatMul", "Attention"},
          {"/attn/proj/MatMul", "MatMul", "Linear"},
          {"/attn/proj/Add", "Add", "Linear"},
          {"/Add", "Add", null}
        }) {
      n.add(new N(p + a[0], a[1], a[2]));
    }
    norm(n, p + "/norm2");
    for (String[] a :
        new String[][] {
          {"/mlp/fc1/MatMul", "MatMul", "Linear"},
          {"/mlp/fc1/Add", "Add", "Linear"},
          {"/mlp/act/Div", "Div", "GELU"},
          {"/mlp/act/Erf", "Erf", "GELU"},
          {"/mlp/act/Add", "Add", "GELU"},
          {"/mlp/act/Mul", "Mul", "GELU"},
          {"/mlp/act/Mul_1", "Mul", "GELU"},
          {"/mlp/fc2/MatMul", "MatMul", "Linear"},
          {"/mlp/fc2/Add", "Add", "Linear"},
          {"/Add_1", "Add", null}
        }) {
      n.add(new N(p + a[0], a[1], a[2]));
    }
    return n;
  }

  private static void norm(List<N> n, String p) {
    for (String[] a :
        new String[][] {
          {"ReduceMean", "ReduceMean"},
          {"Sub", "Sub"},
          {"Pow", "Pow"},
          {"ReduceMean_1", "ReduceMean"},
          {"Add", "Add"},
          {"Sqrt", "Sqrt"},
          {"Div", "Div"},
          {"Mul", "Mul"},
          {"Add_1", "Add"}
        }) {
      n.add(new N(p + "/" + a[0], a[1], "LayerNorm"));
    }
  }

  /** All nodes of the model in topological order. */
  private static List<N> graph() {
    List<N> all = new ArrayList<>();
    all.add(new N("/patch_embed/proj/Conv", "Conv", null));
    all.add(new N("/Add", "Add", null));
    for (int i = 0; i < 12; i++) {
      all.addAll(block(i));
    }
    norm(all, "/norm");
    all.add(new N("/head/Gemm", "Gemm", "Linear"));
    return all;
  }

  public static AnalysisReport diagnose() {
    List<N> g = graph();
    List<TensorRow> tensors = new ArrayList<>();
    List<NodeRow> nodes = new ArrayList<>();
    boolean broken = false;
    double prev = 1e-4;
    for (int k = 0; k < g.size(); k++) {
      N n = g.get(k);
      int blk = BlockDetector.detect(n.node()).map(BlockId::index).orElse(k < 5 ? 0 : 12);
      double base = 4e-4 * Math.pow(1.35, blk);
      double local = 2.5e-4 + 1e-5 * (k % 7);
      String op = n.op();
      boolean ln = "LayerNorm".equals(n.motif());
      // Error per tensor: slow growth along the blocks; the variance path of a LayerNorm (Sqrt) and
      // the GELU argument (Div) are precise, the Div of the LayerNorm and Erf magnify their input.
      double err = base * (1 + 0.2 * (k % 3));
      if (ln
          && (op.equals("Sqrt")
              || op.equals("ReduceMean") && n.node().endsWith("_1")
              || op.equals("Pow"))) {
        err = base / 12;
      } else if ("GELU".equals(n.motif()) && op.equals("Div")) {
        err = base / 5;
      } else if (ln && op.equals("Div")) {
        err = base * 1.5;
      } else if (op.equals("Erf")) {
        err = base * 2;
      }
      double refMax = 40 + k % 11;
      long above = 0;
      long nonFinite = 0;
      if (n.node().equals(FIRST_FAILING_NODE)) {
        broken = true;
        refMax = 131072;
        above = 37;
        nonFinite = 37;
        local = Double.POSITIVE_INFINITY;
        err = Double.POSITIVE_INFINITY;
      } else if (broken) {
        err = n.op().equals("Gemm") ? 0.31 : 0.05 + 0.02 * (k % 4);
      }
      double amp = Double.isInfinite(err) ? Double.POSITIVE_INFINITY : err / prev;
      TensorRow t =
          TensorRow.of(n.node() + "_output_0", n.node(), op, err, err * 20, err <= 1e-2)
              .withEvidence(refMax, 1568L * 768, nonFinite, above, 12, 0)
              .withMotif(n.motif());
      tensors.add(t);
      nodes.add(
          new NodeRow(
              n.node(),
              op,
              n.motif(),
              BlockDetector.detect(n.node()).map(BlockId::label).orElse(null),
              local,
              prev,
              err,
              amp,
              null,
              null));
      prev = err;
    }
    PrecisionPlan plan = PrecisionPlan.fp16Except(FP32);
    TensorRow ff =
        tensors.stream().filter(t -> t.node().equals(FIRST_FAILING_NODE)).findFirst().orElseThrow();
    return RootCauseAnalyzer.withRootCauses(
        AnalysisReport.header(
                "diagnose",
                "models/timesformer-base-k400.onnx",
                BackendPair.of("trt:fp32", "trt:fp16"),
                false,
                23,
                ToleranceView.fp16Default())
            .withTensors(tensors)
            .withFirstFailing(
                new FirstFailing(
                    ff.name(),
                    ff.node(),
                    ff.opType(),
                    ff.normalizedError(),
                    List.of(new InputError("/blocks/blocks.9/norm2/Sub_output_0", 2.1e-3))))
            .withNodes(nodes)
            .withPrecision(FP32, 1.0 - 2.0 / g.size(), PlanView.of(plan), plan.toTrtexecFlags())
            .withWarnings(
                List.of(
                    "TensorRT: Running layernorm after self-attention with FP16 Reduce or Pow may cause "
                        + "overflow. Export the model with opset >= 17 or force layernorm layers to FP32."))
            .withTimings(Map.of("totalSeconds", 312.5, "buildSeconds", 241.0)));
  }

  /** A small layerwise report whose names carry markup and quotes. */
  public static AnalysisReport hostileNames() {
    String evil = "/blocks/blocks.0/attn/<script>alert('x')</script>&\"q\"";
    List<TensorRow> rows =
        List.of(
            TensorRow.of(evil + "_out", evil, "Softmax", 0.5, 2.0, false),
            TensorRow.of(
                "/blocks/blocks.0/Add_1_out|`x`",
                "/blocks/blocks.0/Add_1",
                "Add",
                1e-3,
                1e-2,
                true));
    return RootCauseAnalyzer.withRootCauses(
        AnalysisReport.header(
                "layerwise",
                "evil<model>.onnx",
                BackendPair.of("ort:fp32", "ort:fp16-emulated"),
                false,
                1,
                ToleranceView.fp16Default())
            .withTensors(rows)
            .withFirstFailing(FirstFailing.of(evil + "_out", evil, "Softmax"))
            .withNodes(List.of(NodeRow.of(evil, "Softmax", 0.5, 1e-3, 0.5, 500)))
            .withPrecision(
                List.of(evil), 0.5, null, PrecisionPlan.fp16Except(List.of(evil)).toTrtexecFlags())
            .withWarnings(List.of("</script><b>bold</b>")));
  }
}
