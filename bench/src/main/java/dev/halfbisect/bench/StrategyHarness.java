package dev.halfbisect.bench;

import com.google.protobuf.ByteString;
import dev.halfbisect.bisect.Amplification;
import dev.halfbisect.bisect.BisectContext;
import dev.halfbisect.bisect.FirstDivergence;
import dev.halfbisect.bisect.Layerwise;
import dev.halfbisect.bisect.PrecisionSearch;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.onnx.Extract;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.MarkOutputs;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.proto.Onnx;
import dev.halfbisect.onnx.testing.MiniLmModel;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * End-to-end timings of the strategies and graph operations on deep builder chains with a planted
 * FP16 overflow, on ONNX Runtime (reference {@code ort:fp32}, candidate {@code ort:fp16-emulated}).
 *
 * <pre>
 * java -cp ... dev.halfbisect.bench.StrategyHarness graph 1000,10000,100000
 * java -cp ... dev.halfbisect.bench.StrategyHarness strategies 1000,10000 [layerwise,bisect,amplify,precision]
 * java -cp ... dev.halfbisect.bench.StrategyHarness minilm all-minilm-l6-v2.onnx [strategies]
 * java -Xmx1g -cp ... dev.halfbisect.bench.StrategyHarness memory 400 4194304 [maxTensorsPerBuild [chunkBytes]]
 * </pre>
 *
 * Chain node i is {@code Neg} or {@code Abs} (exact in FP16, so nothing else diverges); at 70%
 * depth {@code Mul(prev, 1e4)} overflows FP16 (|x| > 6.55 times 1e4 > 65504) and the next node
 * scales back by 1e-4, so the FP32 output stays finite while the FP16 one holds inf.
 */
public final class StrategyHarness {
  private StrategyHarness() {}

  /** A chain of {@code n} nodes on a [1, width] float input with the overflow planted at 70%. */
  public static OnnxModel chain(int n, int width) {
    int plant = (int) (n * 0.7);
    Onnx.GraphProto.Builder g =
        Onnx.GraphProto.newBuilder()
            .setName("chain" + n)
            .addInput(value("x", width))
            .addOutput(value("y", width))
            .addInitializer(scalar("big", 1e4f))
            .addInitializer(scalar("small", 1e-4f));
    String prev = "x";
    for (int i = 0; i < n; i++) {
      String out = i == n - 1 ? "y" : "t" + i;
      Onnx.NodeProto.Builder node = Onnx.NodeProto.newBuilder().addInput(prev).addOutput(out);
      if (i == plant || i == plant + 1) {
        node.setOpType("Mul").addInput(i == plant ? "big" : "small");
      } else {
        node.setOpType(i % 2 == 0 ? "Neg" : "Abs"); // exact in FP16: only the planted node diverges
      }
      g.addNode(node.setName((i == plant ? "plant/" : "n/") + node.getOpType() + "_" + i));
      prev = out;
    }
    Onnx.ModelProto m =
        Onnx.ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("halfbisect-bench")
            .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
            .setGraph(g)
            .build();
    return OnnxModel.of(m, null, "chain" + n + ".onnx");
  }

  /** Input in [1, 10): about a third of the elements overflow at the planted node. */
  public static Map<String, Tensor> input(int width, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[width];
    for (int i = 0; i < width; i++) {
      v[i] = 1f + 9f * (float) r.nextDouble();
    }
    return Map.of("x", Tensor.ofFloats(new long[] {1, width}, v));
  }

  private static Onnx.ValueInfoProto value(String name, int width) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (long d : new long[] {1, width}) {
      shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    Onnx.TypeProto.Tensor.Builder type =
        Onnx.TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape); // 1 = FLOAT
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(Onnx.TypeProto.newBuilder().setTensorType(type))
        .build();
  }

  private static Onnx.TensorProto scalar(String name, float v) {
    return Onnx.TensorProto.newBuilder()
        .setName(name)
        .setDataType(1)
        .setRawData(
            ByteString.copyFrom(
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, v)))
        .build();
  }

  /** Context over ORT with the default chunking (byte budget, tensor cap). */
  private static BisectContext context(OnnxModel m, int width) {
    return contextBuilder(m, width).build();
  }

  /**
   * System properties {@code halfbisect.chunkBytes} and {@code halfbisect.maxChunkTensors} override
   * the defaults.
   */
  private static BisectContext.Builder contextBuilder(OnnxModel m, int width) {
    Backend ort = Backends.get("ort");
    BisectContext.Builder b =
        BisectContext.builder(
                m, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
            .samples(List.of(input(width, 7)));
    Long bytes = Long.getLong("halfbisect.chunkBytes");
    Integer cap = Integer.getInteger("halfbisect.maxChunkTensors");
    if (bytes != null) {
      b.chunkBytes(bytes);
    }
    if (cap != null) {
      b.maxChunkTensors(cap);
    }
    return b;
  }

  private static <T> T timed(String label, Supplier<T> work, StringBuilder row) {
    long t0 = System.nanoTime();
    T r = work.get();
    row.append(String.format(Locale.ROOT, " %s %.2f s", label, (System.nanoTime() - t0) / 1e9));
    return r;
  }

  static void graph(int[] sizes) {
    System.out.println(
        "| nodes | build proto | serialize | parse+index (load) | MarkOutputs.allFloat | Extract (x -> mid) |");
    System.out.println("|---|---|---|---|---|---|");
    for (int n : sizes) {
      for (int rep = 0; rep < 3; rep++) { // third repetition reported (warm JIT)
        long t0 = System.nanoTime();
        OnnxModel m = chain(n, 16);
        long t1 = System.nanoTime();
        byte[] bytes = m.toBytes();
        long t2 = System.nanoTime();
        OnnxModel loaded = OnnxModel.parse(bytes, null, "chain.onnx");
        GraphIndex idx = loaded.index();
        long t3 = System.nanoTime();
        OnnxModel marked = MarkOutputs.allFloat(loaded);
        marked.index();
        long t4 = System.nanoTime();
        String mid = idx.nodes().get(n / 2).getOutput(0);
        Extract.subgraph(loaded, List.of("x"), List.of(mid)).index();
        long t5 = System.nanoTime();
        if (rep == 2) {
          System.out.printf(
              Locale.ROOT,
              "| %,d | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms |%n",
              n,
              (t1 - t0) / 1e6,
              (t2 - t1) / 1e6,
              (t3 - t2) / 1e6,
              (t4 - t3) / 1e6,
              (t5 - t4) / 1e6);
        }
      }
    }
  }

  static void strategies(int[] sizes, List<String> which) {
    System.out.println(
        "| nodes | strategy | candidate builds | reference builds | bound | wall | answer |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (int n : sizes) {
      OnnxModel m = chain(n, 16);
      for (String s : which) {
        BisectContext ctx = context(m, 16);
        long t0 = System.nanoTime();
        String builds;
        String bound = "";
        String answer;
        switch (s) {
          case "layerwise":
            {
              Layerwise.Result r = Layerwise.run(ctx);
              builds = Integer.toString(r.candidateBuilds());
              bound =
                  "ceil("
                      + n
                      + "/"
                      + ctx.budget().maxChunkTensors()
                      + ") (cap; "
                      + (ctx.budget().chunkBytes() >> 20)
                      + " MiB budget)";
              answer = r.firstFailing().map(t -> t.node()).orElse("none");
              break;
            }
          case "bisect":
            {
              FirstDivergence.Result r = FirstDivergence.search(ctx);
              builds = Integer.toString(r.candidateBuilds());
              bound =
                  Integer.toString(r.buildBound())
                      + " (ceil(log2 N)+1 = "
                      + (64 - Long.numberOfLeadingZeros(n - 1) + 1)
                      + ")";
              answer = r.divergence().map(d -> d.node()).orElse("none");
              break;
            }
          case "amplify":
            {
              Amplification.Result r = Amplification.analyze(ctx);
              builds = Integer.toString(r.candidateBuilds());
              answer = "top " + (r.ranking().isEmpty() ? "none" : r.ranking().get(0));
              break;
            }
          case "precision":
            {
              PrecisionSearch.Result r = PrecisionSearch.run(ctx);
              builds = r.searchBuilds() + " (+" + r.seedBuilds() + " seeding)";
              answer = r.fp32Nodes().toString();
              break;
            }
          default:
            throw new IllegalArgumentException("unknown strategy " + s);
        }
        System.out.printf(
            Locale.ROOT,
            "| %,d | %s | %s | %d | %s | %.1f s | %s |%n",
            n,
            s,
            builds,
            ctx.prober().referenceBuilds(),
            bound,
            (System.nanoTime() - t0) / 1e9,
            answer);
      }
    }
  }

  /**
   * The strategies on all-MiniLM-L6-v2 (sequence 128). MiniLM passes the default FP16 tolerance, so
   * the tolerance is set to 0.9 x its all-FP16 output error: the searches then have a target.
   */
  static void minilm(java.nio.file.Path file, List<String> which) {
    int seq = 128;
    Map<String, Tensor> sample = MiniLmModel.sample(seq, new SplittableRandom(11)::nextInt);
    long t0 = System.nanoTime();
    OnnxModel m = OnnxModel.load(file);
    System.out.printf(
        Locale.ROOT,
        "MiniLM: %d nodes, load+index %.2f s%n",
        m.graph().getNodeCount(),
        (System.nanoTime() - t0) / 1e9);
    Backend ort = Backends.get("ort");
    BisectContext probe =
        BisectContext.builder(
                m, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
            .samples(List.of(sample))
            .build();
    String out = probe.model().graphOutputs().get(0);
    double err =
        probe
            .prober()
            .probe(
                dev.halfbisect.bisect.ProbeSpec.full(
                    dev.halfbisect.bisect.ProbeSpec.Side.CANDIDATE,
                    dev.halfbisect.core.plan.PrecisionPlan.allFp16(),
                    List.of(out)))
            .tensor(out)
            .get()
            .normalizedError();
    System.out.printf(
        Locale.ROOT,
        "all-FP16 output normalized error %.3g; tolerance set to %.3g%n",
        err,
        0.9 * err);
    System.out.println("| strategy | candidate builds | wall | answer |");
    System.out.println("|---|---|---|---|");
    for (String s : which) {
      BisectContext ctx =
          BisectContext.builder(
                  m, ort, BuildOptions.of("fp32"), ort, BuildOptions.of("fp16-emulated"))
              .samples(List.of(sample))
              .tolerance(dev.halfbisect.core.verdict.Tolerance.normalized(0.9 * err))
              .chunkSize(128)
              .build();
      long t1 = System.nanoTime();
      String builds;
      String answer;
      switch (s) {
        case "layerwise":
          {
            Layerwise.Result lw = Layerwise.run(ctx);
            builds = Integer.toString(lw.candidateBuilds());
            answer =
                lw.tensors().size()
                    + " tensors, first failing "
                    + lw.firstFailing().map(t -> t.node()).orElse("none");
            break;
          }
        case "bisect":
          {
            FirstDivergence.Result fd = FirstDivergence.search(ctx);
            builds = fd.candidateBuilds() + " (bound " + fd.buildBound() + ")";
            answer = fd.divergence().map(d -> d.node()).orElse("none");
            break;
          }
        case "amplify":
          {
            Amplification.Result a = Amplification.analyze(ctx);
            builds = Integer.toString(a.candidateBuilds());
            answer = "top " + (a.ranking().isEmpty() ? "none" : a.ranking().get(0));
            break;
          }
        case "precision":
          {
            PrecisionSearch.Result p = PrecisionSearch.run(ctx);
            builds = p.searchBuilds() + " (+" + p.seedBuilds() + " seeding)";
            answer =
                p.fp32Nodes().size()
                    + " nodes FP32, "
                    + String.format(Locale.ROOT, "%.1f%%", 100 * p.fp16Fraction())
                    + " FP16";
            break;
          }
        default:
          throw new IllegalArgumentException("unknown strategy " + s);
      }
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.1f s | %s |%n",
          s,
          builds,
          (System.nanoTime() - t1) / 1e9,
          answer);
    }
  }

  /**
   * Layerwise on {@code n} ops of {@code width} floats; {@code maxTensors}/{@code chunkBytes} 0
   * keep the defaults.
   */
  static void memory(int n, int width, int maxTensors, long chunkBytes) {
    OnnxModel m = chain(n, width);
    long totalBytes = (long) n * width * 4;
    BisectContext.Builder b = contextBuilder(m, width);
    if (maxTensors > 0) {
      b.maxChunkTensors(maxTensors);
    }
    if (chunkBytes > 0) {
      b.chunkBytes(chunkBytes);
    }
    BisectContext ctx = b.build();
    long t0 = System.nanoTime();
    Layerwise.Result r = Layerwise.run(ctx);
    long peak =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == java.lang.management.MemoryType.HEAP)
            .mapToLong(p -> p.getPeakUsage().getUsed())
            .sum();
    System.out.printf(
        Locale.ROOT,
        "layerwise memory: %d ops x %,d floats = %.1f GB of activations, budget %d MiB, "
            + "cap %d tensors/build, max heap %d MB: %d tensors compared, %d candidate builds, %d reference builds, "
            + "first failing %s, %.1f s, peak heap %d MB%n",
        n,
        width,
        totalBytes / 1e9,
        ctx.budget().chunkBytes() >> 20,
        ctx.budget().maxChunkTensors(),
        Runtime.getRuntime().maxMemory() >> 20,
        r.tensors().size(),
        r.candidateBuilds(),
        ctx.prober().referenceBuilds(),
        r.firstFailing().map(t -> t.node()).orElse("none"),
        (System.nanoTime() - t0) / 1e9,
        peak >> 20);
  }

  private static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  public static void main(String[] args) {
    String what = args.length > 0 ? args[0] : "graph";
    System.out.println(
        "# "
            + what
            + " on "
            + Runtime.getRuntime().availableProcessors()
            + " cores, java "
            + System.getProperty("java.version")
            + ", max heap "
            + (Runtime.getRuntime().maxMemory() >> 20)
            + " MB");
    switch (what) {
      case "graph":
        graph(ints(args.length > 1 ? args[1] : "1000,10000,100000"));
        break;
      case "strategies":
        strategies(
            ints(args.length > 1 ? args[1] : "1000,10000"),
            new ArrayList<>(
                List.of(
                    (args.length > 2 ? args[2] : "layerwise,bisect,amplify,precision")
                        .split(","))));
        break;
      case "minilm":
        minilm(
            java.nio.file.Path.of(args[1]),
            List.of((args.length > 2 ? args[2] : "layerwise,bisect,amplify,precision").split(",")));
        break;
      case "memory":
        memory(
            args.length > 1 ? Integer.parseInt(args[1]) : 400,
            args.length > 2 ? Integer.parseInt(args[2]) : 4 << 20,
            args.length > 3 ? Integer.parseInt(args[3]) : 0,
            args.length > 4 ? Long.parseLong(args[4]) : 0);
        break;
      default:
        throw new IllegalArgumentException("usage: StrategyHarness graph|strategies|memory ...");
    }
  }
}
