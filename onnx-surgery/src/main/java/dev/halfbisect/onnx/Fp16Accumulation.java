package dev.halfbisect.onnx;

import dev.halfbisect.core.DType;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * FP16 accumulation in MatMul and Gemm, on top of {@link Fp16Emulation}'s storage rounding.
 * Weak-typed TensorRT may run an FP16 MatMul on kernels whose accumulators are FP16: a tensor-core
 * step sums 16 products, and the running sum is rounded to FP16 after each step. Fp16Emulation
 * computes in FP32 between its rounding Casts, so it does not see that rounding. On MiniLM,
 * TensorRT 10.6 on an H200 erred 3.95e-3 where the storage emulation gives 2.82e-3; a NumPy model
 * of this accumulation gave 3.80e-3, and it tracked TensorRT under five plans of 0 to 201 pinned
 * nodes (docs/PERFORMANCE.md).
 *
 * <p>The rewrite: an FP16 MatMul or Gemm of the emulated model (its output is {@code
 * <t>__unrounded}) whose reduction length K is static and at least two chunks becomes, per chunk of
 * {@code chunk} along K, {@code Slice(A) x Slice(B)} computed in FP32, and a running sum rounded to
 * FP16 after each chunk is added ({@code Cast(to=FLOAT16) -> Cast(to=FLOAT)}). A MatMul whose K is
 * not known before the run (it depends on an input's dynamic dims) keeps FP32 accumulation; so do
 * pinned MatMuls. A Gemm's chunks keep its alpha and transposes, and its {@code beta C} joins the
 * last chunk. Needs opset 11 or later (Slice with negative axes).
 */
public final class Fp16Accumulation {
  /** Products a tensor-core FP16 step sums before its accumulator is rounded. */
  public static final int TENSOR_CORE_CHUNK = 16;

  private Fp16Accumulation() {}

  /**
   * Rewrites the FP16 MatMuls and Gemms of {@code emulated} (a model from {@link Fp16Emulation}) to
   * accumulate in FP16 every {@code chunk} products; unchanged below opset 11.
   */
  public static OnnxModel apply(OnnxModel emulated, int chunk) {
    if (chunk < 1) {
      throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
    }
    if (emulated.opsetVersion() < 11) {
      return emulated;
    }
    return emulated.withProto(new Rewrite(emulated, chunk).run());
  }

  private static final class Rewrite {
    private final OnnxModel model;
    private final GraphIndex index;
    private final int chunk;
    private final Fp16Support.Names names;
    private final List<Onnx.NodeProto> out = new ArrayList<>();
    private final List<Onnx.TensorProto> extra = new ArrayList<>();
    private final Map<Long, String> int64s = new HashMap<>();

    Rewrite(OnnxModel model, int chunk) {
      this.model = model;
      this.index = model.index();
      this.chunk = chunk;
      this.names = new Fp16Support.Names(model.proto().getGraph());
    }

    Onnx.ModelProto run() {
      Onnx.GraphProto g = model.proto().getGraph();
      for (Onnx.NodeProto n : g.getNodeList()) {
        Optional<Reduction> r = reduction(n);
        if (r.isPresent()) {
          accumulate(n, r.get());
        } else {
          out.add(n);
        }
      }
      Onnx.GraphProto.Builder gb =
          g.toBuilder().clearNode().addAllNode(out).addAllInitializer(extra);
      return model.proto().toBuilder().setGraph(gb).build();
    }

    /** How an FP16 product reduces: over K, along {@code axisA} of A and {@code axisB} of B. */
    private record Reduction(long k, long axisA, long axisB) {}

    /**
     * The reduction of an FP16 MatMul or Gemm that can be split in two chunks or more; empty
     * otherwise (pinned, not float, K unknown before the run, or too short).
     */
    private Optional<Reduction> reduction(Onnx.NodeProto n) {
      boolean gemm = n.getOpType().equals("Gemm");
      if (!(gemm || n.getOpType().equals("MatMul"))
          || !n.getDomain().isEmpty()
          || n.getInputCount() < 2
          || n.getInputCount() > (gemm ? 3 : 2)
          || n.getOutputCount() != 1
          || !n.getOutput(0).endsWith("__unrounded")) {
        return Optional.empty();
      }
      Optional<long[]> a = index.shape(n.getInput(0));
      Optional<long[]> b = index.shape(n.getInput(1));
      if (a.isEmpty() || b.isEmpty() || a.get().length < 2 || b.get().length < 2) {
        return Optional.empty();
      }
      long[] sa = a.get();
      long[] sb = b.get();
      Reduction r;
      if (gemm) {
        boolean ta = intAttribute(n, "transA") != 0;
        boolean tb = intAttribute(n, "transB") != 0;
        long k = tb ? sb[1] : sb[0];
        r = new Reduction(k > 0 ? k : ta ? sa[0] : sa[1], ta ? 0 : 1, tb ? 1 : 0);
      } else {
        long k = sb[sb.length - 2];
        r = new Reduction(k > 0 ? k : sa[sa.length - 1], -1, -2);
      }
      return r.k() >= 2L * chunk ? Optional.of(r) : Optional.empty();
    }

    private static long intAttribute(Onnx.NodeProto n, String name) {
      for (Onnx.AttributeProto a : n.getAttributeList()) {
        if (a.getName().equals(name)) {
          return a.getI();
        }
      }
      return 0;
    }

    /**
     * Per chunk, the product of the slices in FP32 (a Gemm keeps its alpha and transposes; its C,
     * times beta, joins the last chunk), added to the running sum, which is rounded to FP16.
     */
    private void accumulate(Onnx.NodeProto n, Reduction r) {
      String base = n.getName().isEmpty() ? n.getOutput(0) : n.getName();
      boolean gemm = n.getOpType().equals("Gemm");
      String axisA = int64(r.axisA());
      String axisB = int64(r.axisB());
      long k = r.k();
      String acc = null;
      for (long start = 0; start < k; start += chunk) {
        long end = Math.min(k, start + chunk);
        boolean last = end >= k;
        String from = int64(start);
        String to = int64(end);
        String a = names.fresh(base + "__acc16_a" + start);
        String b = names.fresh(base + "__acc16_b" + start);
        String p = names.fresh(base + "__acc16_p" + start);
        out.add(
            slice(
                names.fresh(base + "__acc16_slice_a" + start), n.getInput(0), from, to, axisA, a));
        out.add(
            slice(
                names.fresh(base + "__acc16_slice_b" + start), n.getInput(1), from, to, axisB, b));
        Onnx.NodeProto.Builder product =
            n.toBuilder()
                .setName(names.fresh(base + "__acc16_mm" + start))
                .clearInput()
                .addInput(a)
                .addInput(b)
                .clearOutput()
                .addOutput(p);
        if (gemm && last && n.getInputCount() == 3 && !n.getInput(2).isEmpty()) {
          product.addInput(n.getInput(2)); // beta C once, with the last chunk
        }
        out.add(product.build());
        String sum = p;
        if (acc != null) {
          sum = names.fresh(base + "__acc16_sum" + start);
          out.add(
              Onnx.NodeProto.newBuilder()
                  .setName(names.fresh(base + "__acc16_add" + start))
                  .setOpType("Add")
                  .addInput(acc)
                  .addInput(p)
                  .addOutput(sum)
                  .build());
        }
        // the accumulator is FP16: rounded after every chunk; the last one is the node's output
        acc = last ? n.getOutput(0) : names.fresh(base + "__acc16_acc" + start);
        String half = names.fresh(base + "__acc16_h" + start);
        out.add(cast(base + "__acc16_to_fp16_" + start, sum, half, DType.FLOAT16));
        out.add(cast(base + "__acc16_to_fp32_" + start, half, acc, DType.FLOAT32));
      }
    }

    private Onnx.NodeProto cast(String name, String in, String y, DType to) {
      return Fp16Support.castNode(names.fresh(name), in, y, to.onnxCode());
    }

    private static Onnx.NodeProto slice(
        String name, String x, String starts, String ends, String axes, String y) {
      return Onnx.NodeProto.newBuilder()
          .setName(name)
          .setOpType("Slice")
          .addInput(x)
          .addInput(starts)
          .addInput(ends)
          .addInput(axes)
          .addOutput(y)
          .build();
    }

    /** A shared one-element int64 initializer holding {@code v}. */
    private String int64(long v) {
      return int64s.computeIfAbsent(
          v,
          x -> {
            String name = names.fresh("__acc16_i64_" + (x < 0 ? "m" + (-x) : Long.toString(x)));
            extra.add(
                Onnx.TensorProto.newBuilder()
                    .setName(name)
                    .setDataType(DType.INT64.onnxCode())
                    .addDims(1)
                    .addInt64Data(x)
                    .build());
            return name;
          });
    }
  }
}
