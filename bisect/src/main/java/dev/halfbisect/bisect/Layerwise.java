package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Layerwise comparison ("mark all", done right): observes every float tensor in the reference
 * and in the candidate, in chunks of at most the context's chunk size per build, and lists each
 * tensor's error in topological order with the first tensor over tolerance.
 *
 * <p>Marking a tensor as an output can change what the candidate compiles: TensorRT cannot fuse
 * across a marked tensor, so the observed FP16 run is not exactly the unobserved one (and some
 * builds fail outright with every tensor marked). Chunks whose build fails are split and retried;
 * tensors that cannot be observed even alone are reported, not guessed.
 */
public final class Layerwise {
  private static final Logger LOG = LoggerFactory.getLogger(Layerwise.class);

  /** The caveat every layerwise result carries. */
  public static final String OBSERVATION_NOTE = "Observed tensors are marked as outputs; in TensorRT this can prevent"
      + " layer fusion, so the observed candidate may differ from the engine built without observation.";

  private Layerwise() {}

  /** One observed tensor. */
  public record TensorReport(int position, String tensor, String node, String opType, TensorComparison error) {
    public boolean pass() {
      return error.pass();
    }
  }

  /**
   * @param tensors observed tensors in topological order
   * @param firstFailing the first tensor over tolerance, if any
   * @param unobserved tensors no build could observe, with the reason
   * @param outputsPass whether every graph output passes (the model's verdict)
   * @param candidateBuilds candidate builds made by this run
   * @param note the observation caveat
   */
  public record Result(ImmutableList<TensorReport> tensors, Optional<TensorReport> firstFailing,
      ImmutableMap<String, String> unobserved, boolean outputsPass, int candidateBuilds, String note) {
    public String verdict() {
      return outputsPass ? "pass" : "fail";
    }
  }

  /** Compares every float tensor of the model. */
  public static Result run(BisectContext ctx) {
    return run(ctx, t -> true);
  }

  /** Compares the float tensors accepted by {@code tensorFilter} (graph outputs always). */
  public static Result run(BisectContext ctx, Predicate<String> tensorFilter) {
    ModelGraph g = ctx.model();
    Prober p = ctx.prober();
    int before = p.candidateBuilds();
    List<String> tensors = new ArrayList<>();
    for (String t : g.floatTensors()) {
      if (tensorFilter.test(t) || g.graphOutputs().contains(t)) {
        tensors.add(t);
      }
    }
    ctx.listener().phase("layerwise");
    p.reference(tensors);
    Prober.Chunked c = p.chunked(tensors, ctx.chunkSize(),
        chunk -> ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), chunk));
    Map<String, String> unobserved = new LinkedHashMap<>(c.unobserved());
    p.referenceUnavailable().forEach((t, why) -> {
      if (tensors.contains(t)) {
        unobserved.put(t, "reference: " + why);
      }
    });
    ImmutableList.Builder<TensorReport> rows = ImmutableList.builder();
    TensorReport first = null;
    boolean outputsPass = true;
    for (String t : tensors) {
      TensorComparison e = c.tensors().get(t);
      if (e == null) {
        continue;
      }
      Onnx.NodeProto n = g.requireProducer(t);
      TensorReport row = new TensorReport(g.topoPosition(n.getName()), t, n.getName(), n.getOpType(), e);
      rows.add(row);
      if (!e.pass() && first == null) {
        first = row;
      }
      if (!e.pass() && g.graphOutputs().contains(t)) {
        outputsPass = false;
      }
    }
    int builds = p.candidateBuilds() - before;
    LOG.info("layerwise: {} tensors observed, {} unobserved, first failing {}, {} candidate builds",
        tensors.size() - unobserved.size(), unobserved.size(), first == null ? "none" : first.tensor(), builds);
    return new Result(rows.build(), Optional.ofNullable(first), ImmutableMap.copyOf(unobserved), outputsPass, builds,
        OBSERVATION_NOTE);
  }
}
