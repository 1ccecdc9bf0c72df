package dev.halfbisect.bench.surgery;

import dev.halfbisect.onnx.Extract;
import dev.halfbisect.onnx.GraphIndex;
import dev.halfbisect.onnx.MarkOutputs;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.TestModels;
import dev.halfbisect.onnx.proto.Onnx;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Locale;

/**
 * Times onnx-surgery on a generated 100,000-node ladder graph (t_i = Relu(t_{i-1}) or Add(t_{i-1},
 * t_{i-2}), alternating), single thread: parse + name + index, a second index build, mark all float
 * tensors, and extract the second half. Not a test; run with {@code java -cp
 * bench/target/benchmarks.jar dev.halfbisect.bench.surgery.GraphScaleHarness [nodes] [rounds]}.
 * Numbers go to docs/PERFORMANCE.md.
 */
public final class GraphScaleHarness {
  private GraphScaleHarness() {}

  static Onnx.ModelProto ladder(int nodes) {
    Onnx.GraphProto.Builder g =
        Onnx.GraphProto.newBuilder()
            .setName("ladder")
            .addInput(TestModels.value("t_0", 1, 1, 64))
            .addInput(TestModels.value("t_1", 1, 1, 64));
    for (int i = 2; i < nodes + 2; i++) {
      String out = "t_" + i;
      Onnx.NodeProto n =
          i % 2 == 0
              ? TestModels.node("Relu", null, List.of("t_" + (i - 1)), List.of(out))
              : TestModels.node("Add", null, List.of("t_" + (i - 1), "t_" + (i - 2)), List.of(out));
      g.addNode(n);
    }
    g.addOutput(TestModels.value("t_" + (nodes + 1), 1, 1, 64));
    return TestModels.model(g.build(), 17);
  }

  public static void main(String[] args) {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    byte[] bytes = ladder(nodes).toByteArray();
    System.out.printf(
        Locale.ROOT, "ladder graph: %d nodes, %d bytes serialized%n", nodes, bytes.length);
    System.out.printf(
        Locale.ROOT,
        "%-6s %12s %12s %12s %12s %12s %12s %10s%n",
        "round",
        "load+idx ms",
        "index ms",
        "markAll ms",
        "extract ms",
        "total ms",
        "thread cpu",
        "gc ms");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int mid = nodes / 2;
    for (int r = 0; r < rounds; r++) {
      long gc0 = gcMillis();
      long cpu0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      OnnxModel m =
          OnnxModel.parse(bytes, null, "ladder.onnx"); // names 100k nodes + builds the index
      long t1 = System.nanoTime();
      GraphIndex again = GraphIndex.of(m);
      long t2 = System.nanoTime();
      OnnxModel marked = MarkOutputs.allFloat(m);
      long t3 = System.nanoTime();
      OnnxModel half =
          Extract.subgraph(m, List.of("t_" + mid, "t_" + (mid + 1)), List.of("t_" + (nodes + 1)));
      long t4 = System.nanoTime();
      long cpu = threads.getCurrentThreadCpuTime() - cpu0;
      long gc = gcMillis() - gc0;
      if (again.nodes().size() != nodes
          || marked.graph().getOutputCount() != nodes
          || half.graph().getNodeCount() != nodes - mid) {
        throw new AssertionError(
            "unexpected sizes: "
                + again.nodes().size()
                + " "
                + marked.graph().getOutputCount()
                + " "
                + half.graph().getNodeCount());
      }
      System.out.printf(
          Locale.ROOT,
          "%-6d %12.1f %12.1f %12.1f %12.1f %12.1f %12.1f %10d%n",
          r,
          ms(t1 - t0),
          ms(t2 - t1),
          ms(t3 - t2),
          ms(t4 - t3),
          ms(t4 - t0),
          ms(cpu),
          gc);
    }
  }

  private static long gcMillis() {
    long sum = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      sum += Math.max(0, gc.getCollectionTime());
    }
    return sum;
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
