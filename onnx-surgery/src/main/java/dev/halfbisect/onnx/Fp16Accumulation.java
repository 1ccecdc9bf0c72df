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
 * <t>__unrounded}) is computed per chunk of {@code chunk} along its reduction length K, {@code
 * Slice(A) x Slice(B)} in FP32, added to a running sum rounded to FP16 after each chunk ({@code
 * Cast(to=FLOAT16) -> Cast(to=FLOAT)}). A MatMul's chunks run in one ONNX {@code Loop} whose trip
 * count comes from B's shape at run time, so a K known only then (attention times V) is covered
 * too; one whose static K is under two chunks is left as it is (one chunk: the storage rounding
 * alone). A Gemm needs a static K of two chunks or more and is unrolled: its chunks keep its alpha
 * and transposes, and its {@code beta C} joins the last chunk. Pinned products keep FP32
 * accumulation. Needs opset 11 or later (Slice with negative axes).
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
    private final Map<Long, String> scalars = new HashMap<>();

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
        if (r.isEmpty()) {
          out.add(n);
        } else if (n.getOpType().equals("MatMul")) {
          accumulateInLoop(n);
        } else {
          accumulate(n, r.get());
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
     * otherwise (pinned, not float, a Gemm whose K is unknown before the run, or too short); a
     * MatMul's K is 0 or less when it is known only at run time.
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
        if (r.k() <= 0) {
          return Optional.of(r); // K known only at run time: the loop counts its chunks then
        }
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
     * A MatMul's chunks in one ONNX {@code Loop}: chunk 0 before it, rounded; then per iteration i
     * (of ceil(K / chunk) - 1, K read from B's shape at run time) the product of the slices [(i +
     * 1) chunk, (i + 2) chunk) along K (Slice clamps the last one) added to the running sum, which
     * is rounded to FP16. The same sums as unrolling the chunks, in about 20 nodes instead of 6 per
     * chunk: on MiniLM unrolled chunks took the emulated graph from 1,284 to 8,988 nodes and ONNX
     * Runtime's session build from 0.2 s to 0.7 to 1.7 s (docs/PERFORMANCE.md); the loop also
     * covers a K that is not known before the run (attention times V).
     */
    private void accumulateInLoop(Onnx.NodeProto n) {
      String base = (n.getName().isEmpty() ? n.getOutput(0) : n.getName()) + "__acc16";
      String a = n.getInput(0);
      String b = n.getInput(1);
      String axisA = int64(-1);
      String axisB = int64(-2);
      // chunk 0, rounded: the loop's initial accumulator
      String a0 = names.fresh(base + "_a0");
      String b0 = names.fresh(base + "_b0");
      String p0 = names.fresh(base + "_p0");
      out.add(slice(names.fresh(base + "_slice_a0"), a, int64(0), int64(chunk), axisA, a0));
      out.add(slice(names.fresh(base + "_slice_b0"), b, int64(0), int64(chunk), axisB, b0));
      out.add(product(n, names.fresh(base + "_mm0"), a0, b0, p0));
      String h0 = names.fresh(base + "_h0");
      String acc0 = names.fresh(base + "_acc0");
      out.add(cast(base + "_to_fp16_0", p0, h0, DType.FLOAT16));
      out.add(cast(base + "_to_fp32_0", h0, acc0, DType.FLOAT32));
      // iterations: ceil(K / chunk) - 1, K = B's dim -2
      String shape = names.fresh(base + "_shape_b");
      String k = names.fresh(base + "_k");
      String up = names.fresh(base + "_k_up");
      String chunks = names.fresh(base + "_chunks");
      String trips = names.fresh(base + "_trips");
      out.add(node("Shape", base + "_shape", shape, b));
      out.add(node("Gather", base + "_gather_k", k, shape, scalar(-2)));
      out.add(node("Add", base + "_round_up", up, k, scalar(chunk - 1)));
      out.add(node("Div", base + "_div", chunks, up, scalar(chunk)));
      out.add(node("Sub", base + "_trips", trips, chunks, scalar(1)));
      out.add(
          Onnx.NodeProto.newBuilder()
              .setName(names.fresh(base + "_loop"))
              .setOpType("Loop")
              .addInput(trips)
              .addInput("") // no condition: the trip count alone
              .addInput(acc0)
              .addOutput(n.getOutput(0))
              .addAttribute(
                  Onnx.AttributeProto.newBuilder()
                      .setName("body")
                      .setType(Onnx.AttributeProto.AttributeType.GRAPH)
                      .setG(loopBody(n, base, a, b, axisA, axisB)))
              .build());
    }

    /** One iteration: the next chunk's product added to the accumulator, rounded to FP16. */
    private Onnx.GraphProto loopBody(
        Onnx.NodeProto n, String base, String a, String b, String axisA, String axisB) {
      String iter = names.fresh(base + "_i");
      String condIn = names.fresh(base + "_cond_in");
      String accIn = names.fresh(base + "_acc_in");
      String next = names.fresh(base + "_next");
      String start = names.fresh(base + "_start");
      String end = names.fresh(base + "_end");
      String start1 = names.fresh(base + "_start1");
      String end1 = names.fresh(base + "_end1");
      String ai = names.fresh(base + "_a");
      String bi = names.fresh(base + "_b");
      String pi = names.fresh(base + "_p");
      String sum = names.fresh(base + "_sum");
      String half = names.fresh(base + "_h");
      String accOut = names.fresh(base + "_acc_out");
      String condOut = names.fresh(base + "_cond_out");
      String one = int64(1); // as a shape: [1]
      return Onnx.GraphProto.newBuilder()
          .setName(names.fresh(base + "_body"))
          .addInput(value(iter, DType.INT64, true))
          .addInput(value(condIn, DType.BOOL, true))
          .addInput(value(accIn, DType.FLOAT32, false))
          .addNode(node("Add", base + "_next", next, iter, scalar(1)))
          .addNode(node("Mul", base + "_start", start, next, scalar(chunk)))
          .addNode(node("Add", base + "_end", end, start, scalar(chunk)))
          .addNode(node("Reshape", base + "_start1", start1, start, one))
          .addNode(node("Reshape", base + "_end1", end1, end, one))
          .addNode(slice(names.fresh(base + "_slice_a"), a, start1, end1, axisA, ai))
          .addNode(slice(names.fresh(base + "_slice_b"), b, start1, end1, axisB, bi))
          .addNode(product(n, names.fresh(base + "_mm"), ai, bi, pi))
          .addNode(node("Add", base + "_add", sum, accIn, pi))
          .addNode(cast(base + "_to_fp16", sum, half, DType.FLOAT16))
          .addNode(cast(base + "_to_fp32", half, accOut, DType.FLOAT32))
          .addNode(node("Identity", base + "_cond", condOut, condIn))
          .addOutput(value(condOut, DType.BOOL, true))
          .addOutput(value(accOut, DType.FLOAT32, false))
          .build();
    }

    /** {@code n} (a MatMul or Gemm, its attributes kept) on other operands. */
    private static Onnx.NodeProto product(
        Onnx.NodeProto n, String name, String a, String b, String y) {
      return n.toBuilder()
          .setName(name)
          .clearInput()
          .addInput(a)
          .addInput(b)
          .clearOutput()
          .addOutput(y)
          .build();
    }

    private Onnx.NodeProto node(String op, String name, String y, String... inputs) {
      Onnx.NodeProto.Builder b =
          Onnx.NodeProto.newBuilder().setName(names.fresh(name)).setOpType(op).addOutput(y);
      for (String in : inputs) {
        b.addInput(in);
      }
      return b.build();
    }

    /** A loop body's input or output: its element type, a scalar or of any shape. */
    private static Onnx.ValueInfoProto value(String name, DType type, boolean scalar) {
      Onnx.TypeProto.Tensor.Builder t =
          Onnx.TypeProto.Tensor.newBuilder().setElemType(type.onnxCode());
      if (scalar) {
        t.setShape(Onnx.TensorShapeProto.getDefaultInstance());
      }
      return Onnx.ValueInfoProto.newBuilder()
          .setName(name)
          .setType(Onnx.TypeProto.newBuilder().setTensorType(t))
          .build();
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
        Onnx.NodeProto product = product(n, names.fresh(base + "__acc16_mm" + start), a, b, p);
        if (gemm && last && n.getInputCount() == 3 && !n.getInput(2).isEmpty()) {
          product = product.toBuilder().addInput(n.getInput(2)).build(); // beta C, last chunk
        }
        out.add(product);
        String sum = p;
        if (acc != null) {
          sum = names.fresh(base + "__acc16_sum" + start);
          out.add(node("Add", base + "__acc16_add" + start, sum, acc, p));
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
      return int64(v, false);
    }

    /** A shared int64 scalar initializer holding {@code v}. */
    private String scalar(long v) {
      return int64(v, true);
    }

    private String int64(long v, boolean scalar) {
      return (scalar ? scalars : int64s)
          .computeIfAbsent(
              v,
              x -> {
                String name =
                    names.fresh(
                        (scalar ? "__acc16_s64_" : "__acc16_i64_")
                            + (x < 0 ? "m" + (-x) : Long.toString(x)));
                Onnx.TensorProto.Builder t =
                    Onnx.TensorProto.newBuilder()
                        .setName(name)
                        .setDataType(DType.INT64.onnxCode())
                        .addInt64Data(x);
                if (!scalar) {
                  t.addDims(1);
                }
                extra.add(t.build());
                return name;
              });
    }
  }
}
