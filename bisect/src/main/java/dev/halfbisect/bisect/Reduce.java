package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npz;
import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reduction to the smallest failing subgraph, ready for a bug report. Outputs first: the {@link
 * FirstDivergence} search narrows the failing graph output to the tensor {@code t} where the error
 * is born. Inputs next: over the ancestors of {@code t} in topological order {@code a_0..a_m} (with
 * {@code a_m} its producer), the subgraph {@code a_c..a_m} gets every tensor it reads from outside
 * as an input fed the golden reference value; a binary search finds the largest {@code c} whose
 * subgraph still fails (a boundary: {@code c} fails, {@code c + 1} passes, or {@code c = m}, the
 * single node). Writes {@code reduced.onnx}, {@code inputs.npz} (the cut inputs of the worst
 * sample) and {@code reference.npz} (the golden value of {@code t}); array names are the tensor
 * names as they are (members such as {@code /blocks.0/Add_output_0.npy}, as numpy writes them).
 */
public final class Reduce {
  private static final Logger LOG = LoggerFactory.getLogger(Reduce.class);

  private Reduce() {}

  /**
   * @param failing whether anything failed (else nothing is written)
   * @param output the tensor the reduced graph computes
   * @param nodes nodes of the reduced graph, topological order
   * @param inputs its inputs (fed golden values)
   * @param error its output's error in the candidate
   * @param sample the sample whose inputs were saved
   * @param model path of {@code reduced.onnx}
   * @param inputsNpz path of {@code inputs.npz}
   * @param referenceNpz path of {@code reference.npz}
   * @param candidateBuilds candidate builds made (including the first-divergence search)
   */
  public record Result(
      boolean failing,
      String output,
      ImmutableList<String> nodes,
      ImmutableList<String> inputs,
      Optional<TensorComparison> error,
      int sample,
      Optional<Path> model,
      Optional<Path> inputsNpz,
      Optional<Path> referenceNpz,
      int candidateBuilds) {}

  /** Reduces and writes the files into {@code outDir}. */
  public static Result run(BisectContext ctx, Path outDir) throws IOException {
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    FirstDivergence.Result fd = FirstDivergence.search(ctx);
    if (fd.divergence().isEmpty()) {
      return new Result(
          false,
          "",
          ImmutableList.of(),
          ImmutableList.of(),
          Optional.empty(),
          -1,
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          p.candidateBuilds() - before);
    }
    ctx.listener().phase("reduce");
    ModelGraph g = ctx.model();
    String t = fd.divergence().get().tensor();
    List<Integer> cone = new ArrayList<>(g.ancestorPositions(t));
    int m = cone.size() - 1;
    Map<Integer, ProbeResult> probes = new LinkedHashMap<>();
    // c = m: the producer alone on golden inputs (fails when the error is local to it).
    int lo = 0;
    ProbeResult single = probe(ctx, g, cone, m, t);
    probes.put(m, single);
    if (fails(single, t)) {
      lo = m;
    } else {
      int hi = m;
      while (hi - lo > 1) {
        int mid = (lo + hi) >>> 1;
        ProbeResult r = probe(ctx, g, cone, mid, t);
        probes.put(mid, r);
        if (fails(r, t)) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
    }
    List<String> nodes = nodesFrom(g, cone, lo);
    List<String> cuts = cutInputs(g, nodes);
    ProbeResult chosen = probes.containsKey(lo) ? probes.get(lo) : probe(ctx, g, cone, lo, t);
    Optional<TensorComparison> err = chosen.tensor(t);
    int sample = worstSample(err);

    Files.createDirectories(outDir);
    List<String> all = new ArrayList<>(cuts);
    all.add(t);
    Map<String, Tensor> ref = p.reference(all).get(sample);
    Onnx.ModelProto reduced =
        ProbeGraphs.subgraph(
            g,
            nodes.stream().map(g::topoPosition).toList(),
            cuts,
            List.of(t),
            SpiProbeRunner.cutShapes(cuts, List.of(ref)));
    Path modelFile = outDir.resolve("reduced.onnx");
    SafeFiles.write(modelFile, reduced.toByteArray());
    Map<String, Tensor> ins = new LinkedHashMap<>();
    cuts.forEach(c -> ins.put(c, ref.get(c)));
    Path inputsFile = outDir.resolve("inputs.npz");
    Npz.write(inputsFile, ins);
    Path refFile = outDir.resolve("reference.npz");
    Npz.write(refFile, Map.of(t, ref.get(t)));
    LOG.info(
        "reduce: {} nodes, {} inputs, output {} written to {}",
        nodes.size(),
        cuts.size(),
        t,
        outDir);
    return new Result(
        true,
        t,
        ImmutableList.copyOf(nodes),
        ImmutableList.copyOf(cuts),
        err,
        sample,
        Optional.of(modelFile),
        Optional.of(inputsFile),
        Optional.of(refFile),
        p.candidateBuilds() - before);
  }

  private static ProbeResult probe(
      BisectContext ctx, ModelGraph g, List<Integer> cone, int from, String t) {
    List<String> nodes = nodesFrom(g, cone, from);
    return ctx.prober()
        .probe(
            ProbeSpec.subgraph(
                ProbeSpec.Side.CANDIDATE, ctx.basePlan(), nodes, cutInputs(g, nodes), List.of(t)));
  }

  private static List<String> nodesFrom(ModelGraph g, List<Integer> cone, int from) {
    return cone.subList(from, cone.size()).stream().map(i -> g.nodes().get(i).getName()).toList();
  }

  /**
   * Tensors the nodes read that none of them produces (graph inputs included), initializers
   * excluded.
   */
  static List<String> cutInputs(ModelGraph g, List<String> nodes) {
    Set<String> produced = new HashSet<>();
    nodes.forEach(n -> produced.addAll(g.node(n).getOutputList()));
    List<String> cuts = new ArrayList<>();
    for (String n : nodes) {
      Onnx.NodeProto node = g.node(n);
      for (String in : g.nodeInputs(node)) {
        if (!in.isEmpty() && !produced.contains(in) && !g.isInitializer(in) && !cuts.contains(in)) {
          cuts.add(in);
        }
      }
    }
    return cuts;
  }

  private static boolean fails(ProbeResult r, String t) {
    return r.status() != ProbeResult.Status.OK
        || !r.tensor(t).map(TensorComparison::pass).orElse(false);
  }

  private static int worstSample(Optional<TensorComparison> err) {
    if (err.isEmpty()) {
      return 0;
    }
    TensorError w = err.get().worst();
    return err.get().perSample().indexOf(w);
  }
}
