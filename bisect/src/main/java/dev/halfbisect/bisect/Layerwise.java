package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
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
 * Layerwise comparison ("mark all", done right): observes every float tensor in the reference and
 * in the candidate, in chunks within the context's byte budget and tensor cap per build, and lists
 * each tensor's error in topological order with the first tensor over tolerance.
 *
 * <p>Marking a tensor as an output can change what the candidate compiles: TensorRT cannot fuse
 * across a marked tensor, so the observed FP16 run is not exactly the unobserved one (and some
 * builds fail outright with every tensor marked). Chunks whose build fails are split and retried;
 * tensors that cannot be observed even alone are reported, not guessed.
 */
public final class Layerwise {
  private static final Logger LOG = LoggerFactory.getLogger(Layerwise.class);

  /** The caveat every layerwise result carries. */
  public static final String OBSERVATION_NOTE =
      "Observed tensors are marked as outputs; in TensorRT this can prevent"
          + " layer fusion, so the observed candidate may differ from the engine built without"
          + " observation (weakly typed FP16 writes them in FP32 unless"
          + " -Dhalfbisect.trt.observedAs=fp16).";

  private Layerwise() {}

  /** One observed tensor. */
  public record TensorReport(
      int position, String tensor, String node, String opType, TensorComparison error) {
    public boolean pass() {
      return error.pass();
    }
  }

  /** FP16's largest finite value. */
  static final double FP16_MAX = 65504;

  /** FP16's smallest subnormal, 2^-24: nonzero magnitudes below about half of it flush to zero. */
  static final double FP16_MIN_SUBNORMAL = Math.scalb(1.0, -24);

  /**
   * A constant tensor (a Constant node's output, or computed only from constants and initializers)
   * whose values FP16 cannot represent, e.g. an attention-mask fill of -3.4e38 that FP16 turns into
   * -inf (or -65504 where TensorRT clamps). Not a computation error, so it does not fail the
   * layerwise verdict, but a report should still warn.
   *
   * @param referenceMaxAbs largest finite |x| of the reference value over the samples
   * @param reason why FP16 cannot represent it
   */
  public record UnrepresentableConstant(
      String tensor, String node, String opType, double referenceMaxAbs, String reason) {}

  /**
   * @param tensors observed tensors in topological order
   * @param firstFailing the first computed (non-constant) tensor over tolerance, if any
   * @param unobserved tensors no build could observe, with the reason
   * @param outputsPass whether every computed graph output passes (the model's verdict)
   * @param candidateBuilds candidate builds made by this run
   * @param note the observation caveat
   * @param constants constant tensors whose values FP16 cannot represent (excluded from the verdict
   *     and from {@code firstFailing}), topological order
   */
  public record Result(
      ImmutableList<TensorReport> tensors,
      Optional<TensorReport> firstFailing,
      ImmutableMap<String, String> unobserved,
      boolean outputsPass,
      int candidateBuilds,
      String note,
      ImmutableList<UnrepresentableConstant> constants,
      ImmutableList<Headroom.Extreme> atRisk) {
    /** A result without headroom scan (issue 15). */
    public Result(
        ImmutableList<TensorReport> tensors,
        Optional<TensorReport> firstFailing,
        ImmutableMap<String, String> unobserved,
        boolean outputsPass,
        int candidateBuilds,
        String note,
        ImmutableList<UnrepresentableConstant> constants) {
      this(
          tensors,
          firstFailing,
          unobserved,
          outputsPass,
          candidateBuilds,
          note,
          constants,
          ImmutableList.of());
    }

    /** A result without unrepresentable constants. */
    public Result(
        ImmutableList<TensorReport> tensors,
        Optional<TensorReport> firstFailing,
        ImmutableMap<String, String> unobserved,
        boolean outputsPass,
        int candidateBuilds,
        String note) {
      this(
          tensors,
          firstFailing,
          unobserved,
          outputsPass,
          candidateBuilds,
          note,
          ImmutableList.of());
    }

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
    return run(ctx, tensorFilter, Headroom.DEFAULT_SHARE);
  }

  /**
   * Compares the float tensors accepted by {@code tensorFilter} (graph outputs always) and lists
   * the non-constant ones whose reference magnitude reaches {@code headroomShare} of 65504 in
   * {@link Result#atRisk} (issue 15), topological order.
   */
  public static Result run(
      BisectContext ctx, Predicate<String> tensorFilter, double headroomShare) {
    Preconditions.checkArgument(
        headroomShare > 0 && headroomShare <= 1, "headroom share must be in (0, 1]");
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
    Observed seen = observe(ctx, tensors, headroomShare);
    Map<String, TensorComparison> compared = seen.compared();
    Map<String, String> unobserved = seen.unobserved();
    ImmutableList.Builder<TensorReport> rows = ImmutableList.builder();
    ImmutableList.Builder<UnrepresentableConstant> constants = ImmutableList.builder();
    TensorReport first = null;
    boolean outputsPass = true;
    for (String t : tensors) {
      TensorComparison e = compared.get(t);
      if (e == null) {
        continue;
      }
      Onnx.NodeProto n = g.requireProducer(t);
      TensorReport row =
          new TensorReport(g.topoPosition(n.getName()), t, n.getName(), n.getOpType(), e);
      rows.add(row);
      if (g.isConstant(t)) {
        Why why = seen.constantWhy().get(t);
        if (why != null) {
          constants.add(
              new UnrepresentableConstant(t, n.getName(), n.getOpType(), why.maxAbs, why.reason));
        }
        continue;
      }
      if (!e.pass() && first == null) {
        first = row;
      }
      if (!e.pass() && g.graphOutputs().contains(t)) {
        outputsPass = false;
      }
    }
    int builds = p.candidateBuilds() - before;
    LOG.info(
        "layerwise: {} tensors observed, {} unobserved, first failing {}, {} candidate builds",
        tensors.size() - unobserved.size(),
        unobserved.size(),
        first == null ? "none" : first.tensor(),
        builds);
    ImmutableList<UnrepresentableConstant> unrepresentable = constants.build();
    if (!unrepresentable.isEmpty()) {
      LOG.info(
          "layerwise: {} constant tensors FP16 cannot represent (not counted as failures): {}",
          unrepresentable.size(),
          unrepresentable.stream().map(UnrepresentableConstant::tensor).toList());
    }
    return new Result(
        rows.build(),
        Optional.ofNullable(first),
        ImmutableMap.copyOf(unobserved),
        outputsPass,
        builds,
        // marking outputs changes what TensorRT fuses; ONNX Runtime's emulation computes the same
        ctx.backends().candidateLabel().startsWith("trt:") ? OBSERVATION_NOTE : null,
        unrepresentable,
        ImmutableList.<Headroom.Extreme>builder()
            .addAll(inputExtremes(ctx, headroomShare))
            .addAll(
                tensors.stream()
                    .map(seen.extremes()::get)
                    .filter(java.util.Objects::nonNull)
                    .iterator())
            .build());
  }

  /**
   * The float graph inputs whose sample values reach {@code share} of 65504: no build observes
   * them, yet an input beyond FP16's range is the first cause of every overflow after it (an FP16
   * engine cannot hold the values it is given).
   */
  private static List<Headroom.Extreme> inputExtremes(BisectContext ctx, double share) {
    List<Headroom.Extreme> out = new ArrayList<>();
    for (String in : ctx.model().graphInputs()) {
      if (ctx.model().isFloat(in)) {
        Headroom.scan(in, Headroom.INPUT_NODE, Headroom.INPUT_OP_TYPE, ctx.samples(), share)
            .ifPresent(out::add);
      }
    }
    return out;
  }

  /** What the chunks showed: comparisons, what could not be observed and why, constants' flaws. */
  private record Observed(
      Map<String, TensorComparison> compared,
      Map<String, String> unobserved,
      Map<String, Why> constantWhy,
      Map<String, Headroom.Extreme> extremes) {}

  /**
   * Chunk by chunk: reference and candidate observe the same chunk, only the statistics are kept,
   * and the chunk's reference values are dropped (or kept within the cache budget) when its scope
   * closes, so memory is bounded by the byte budget (times the parallelism: that many chunks are
   * built at once). Tensors a side could not observe are listed with that side's reason.
   */
  private static Observed observe(BisectContext ctx, List<String> tensors, double headroomShare) {
    ModelGraph g = ctx.model();
    Prober p = ctx.prober();
    Observed seen =
        new Observed(
            new LinkedHashMap<>(),
            new LinkedHashMap<>(),
            new LinkedHashMap<>(),
            new LinkedHashMap<>());
    List<List<String>> all = ctx.chunks().tensors(tensors);
    // issue 18: with parallelism k, k chunks form one round (their reference values held together).
    for (int from = 0; from < all.size(); from += p.parallelism()) {
      List<List<String>> round = all.subList(from, Math.min(all.size(), from + p.parallelism()));
      List<String> chunk = new ArrayList<>();
      round.forEach(chunk::addAll);
      try (ReferenceScope scope = p.openScope(chunk)) {
        Prober.Chunked c =
            p.chunked(
                round, part -> ProbeSpec.full(ProbeSpec.Side.CANDIDATE, ctx.basePlan(), part));
        seen.compared().putAll(c.tensors());
        seen.unobserved().putAll(c.unobserved());
        for (String t : chunk) {
          TensorComparison e = c.tensors().get(t);
          if (e != null && g.isConstant(t)) {
            unrepresentable(scope.reference(List.of(t)), t, e)
                .ifPresent(why -> seen.constantWhy().put(t, why));
          } else if (e != null) {
            Onnx.NodeProto n = g.requireProducer(t);
            Headroom.scan(t, n.getName(), n.getOpType(), scope.reference(List.of(t)), headroomShare)
                .ifPresent(x -> seen.extremes().put(t, x));
          }
        }
      }
    }
    Map<String, String> referenceUnavailable = p.referenceUnavailable();
    Map<String, String> candidateUnavailable = p.candidateUnavailable();
    for (String t : tensors) {
      String why = referenceUnavailable.get(t);
      if (why != null) {
        seen.unobserved().put(t, "reference: " + why);
      }
      String cwhy = candidateUnavailable.get(t);
      if (cwhy != null && !seen.compared().containsKey(t)) {
        seen.unobserved().putIfAbsent(t, "candidate: " + cwhy);
      }
    }
    return seen;
  }

  private record Why(double maxAbs, String reason) {}

  /**
   * Why FP16 cannot hold the reference value of a constant: finite magnitudes beyond 65504, nonzero
   * magnitudes below 2^-24, or else (when the comparison fails anyway) rounding beyond tolerance.
   */
  private static Optional<Why> unrepresentable(
      List<Map<String, Tensor>> reference, String tensor, TensorComparison error) {
    double max = 0;
    double minNonZero = Double.POSITIVE_INFINITY;
    for (Map<String, Tensor> sample : reference) {
      Tensor v = sample.get(tensor);
      if (v == null) {
        continue;
      }
      for (float x : v.toFloatArray()) {
        double a = Math.abs(x);
        if (Double.isFinite(a)) {
          max = Math.max(max, a);
          if (a > 0) {
            minNonZero = Math.min(minNonZero, a);
          }
        }
      }
    }
    if (max > FP16_MAX) {
      return Optional.of(
          new Why(
              max,
              "values beyond the FP16 maximum 65504 (max |x| "
                  + max
                  + ") become inf, or 65504 where clamped"));
    }
    if (minNonZero < FP16_MIN_SUBNORMAL) {
      return Optional.of(
          new Why(
              max,
              "nonzero values below 2^-24 (min |x| " + minNonZero + ") flush to zero in FP16"));
    }
    if (!error.pass()) {
      return Optional.of(
          new Why(
              max,
              "FP16 rounding of the constant exceeds the tolerance (normalized error "
                  + error.normalizedError()
                  + ")"));
    }
    return Optional.empty();
  }
}
