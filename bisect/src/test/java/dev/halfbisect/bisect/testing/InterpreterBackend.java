package dev.halfbisect.bisect.testing;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.BuildStats;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.core.backend.UnobservableTensorsException;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The project's test backend, named {@code interp}: a Java interpreter for small ONNX graphs (ops
 * in {@link InterpreterOps}). Mode {@code fp32} computes in float; {@code fp16-emulated} rounds the
 * float32 inputs and outputs of every FP16 node of the plan to binary16 (overflow to inf), the FP16
 * emulation semantics of DESIGN.md.
 *
 * <p>Bisect tests construct it directly and script TensorRT-like refusals on the instance: too many
 * observed tensors, a tensor that cannot be observed, folded-away tensors, a crashing build.
 * Facade, CLI and JUnit tests find it by ServiceLoader (registered in their own test resources); a
 * node of op {@code Fail} makes every build fail, and {@link #openSessions()} tells whether
 * sessions were closed.
 */
public final class InterpreterBackend implements Backend {
  /** The name in backend specs such as {@code interp:fp16-emulated}. */
  public static final String NAME = "interp";

  /**
   * Suffix of the shadow copies the prober adds (package-private {@code
   * ProbeGraphs.SHADOW_SUFFIX}); a folded tensor's shadow copy is folded too.
   */
  static final String SHADOW_SUFFIX = "__shadow";

  /**
   * System property that scripts {@link #maxObserved} for instances made by ServiceLoader (facade
   * and CLI tests).
   */
  public static final String MAX_OBSERVED_PROPERTY = "halfbisect.interp.maxObserved";

  private static final AtomicInteger OPEN = new AtomicInteger();

  // Concurrent: the scripted refusals are read by builds that may run on other threads.
  private final AtomicInteger fp32Builds = new AtomicInteger();
  private final AtomicInteger fp16Builds = new AtomicInteger();
  private volatile int maxObserved = Integer.MAX_VALUE;
  private final Set<String> unobservable = ConcurrentHashMap.newKeySet();
  private final Set<String> crashWhenPresent = ConcurrentHashMap.newKeySet();
  private final Set<String> folded = ConcurrentHashMap.newKeySet();
  private volatile boolean foldOnReference = true;

  /** Sessions opened and not yet closed, over all instances. */
  public static int openSessions() {
    return OPEN.get();
  }

  /** Builds in mode {@code fp32} so far, failed ones included. */
  public int fp32Builds() {
    return fp32Builds.get();
  }

  /** Builds in mode {@code fp16-emulated} so far, failed ones included. */
  public int fp16Builds() {
    return fp16Builds.get();
  }

  /** FP16 builds observing more than {@code max} tensors fail, like TensorRT finding no tactic. */
  public InterpreterBackend maxObserved(int max) {
    this.maxObserved = max;
    return this;
  }

  /** FP16 builds observing {@code tensor} fail with a plain {@link BackendException}. */
  public InterpreterBackend unobservable(String tensor) {
    unobservable.add(tensor);
    return this;
  }

  /** FP16 builds of a model holding node {@code node} crash ({@link BackendCrashException}). */
  public InterpreterBackend crashWhenPresent(String node) {
    crashWhenPresent.add(node);
    return this;
  }

  /**
   * The "compiled network" folds these tensors (and their shadow copies) away, like TensorRT's
   * constant folding: observing one fails with {@link UnobservableTensorsException} naming them.
   */
  public InterpreterBackend folded(Collection<String> tensors) {
    folded.addAll(tensors);
    return this;
  }

  /** Whether fp32 builds fold too (the default) or only fp16 ones. */
  public InterpreterBackend foldOnReference(boolean fold) {
    this.foldOnReference = fold;
    return this;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> modes() {
    return List.of("fp32", "fp16-emulated");
  }

  @Override
  public String referenceMode() {
    return "fp32";
  }

  @Override
  public String candidateMode() {
    return "fp16-emulated";
  }

  @Override
  public Availability availability() {
    return Availability.yes();
  }

  @Override
  public BackendSession open(ModelRef model, BuildOptions options) throws BackendException {
    boolean fp16 = options.mode().equals("fp16-emulated");
    (fp16 ? fp16Builds : fp32Builds).incrementAndGet();
    Onnx.ModelProto proto;
    try {
      proto = Onnx.ModelProto.parseFrom(model.bytes());
    } catch (InvalidProtocolBufferException e) {
      throw new BackendException(model.name() + " is not ONNX: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new BackendException("cannot read " + model.name() + ": " + e.getMessage(), e);
    }
    int max = Math.min(maxObserved, Integer.getInteger(MAX_OBSERVED_PROPERTY, Integer.MAX_VALUE));
    if (fp16 && options.observed().size() > max) {
      throw new BackendException(
          "Could not find any implementation for node {ForeignNode} ("
              + options.observed().size()
              + " observed)");
    }
    List<String> gone = new ArrayList<>();
    for (String o : options.observed()) {
      String base =
          o.endsWith(SHADOW_SUFFIX) ? o.substring(0, o.length() - SHADOW_SUFFIX.length()) : o;
      if ((fp16 || foldOnReference) && folded.contains(base)) {
        gone.add(o);
      }
    }
    if (!gone.isEmpty()) {
      throw new UnobservableTensorsException("network has no tensor named " + gone, gone);
    }
    for (String o : options.observed()) {
      if (fp16 && unobservable.contains(o)) {
        throw new BackendException("cannot observe " + o);
      }
    }
    for (Onnx.NodeProto n : proto.getGraph().getNodeList()) {
      if (fp16 && crashWhenPresent.contains(n.getName())) {
        throw new BackendCrashException("worker died building " + n.getName());
      }
      if (n.getOpType().equals("Fail")) {
        throw new BackendException(NAME + " cannot build node " + n.getName() + " (op Fail)");
      }
    }
    Session s =
        new Session(
            proto.getGraph(), fp16 ? options.plan() : PrecisionPlan.allFp32(), options.observed());
    OPEN.incrementAndGet();
    return s;
  }

  private static final class Session implements BackendSession {
    private final Onnx.GraphProto g;
    private final PrecisionPlan plan;
    private final ImmutableList<String> outputs;
    private final ImmutableList<TensorInfo> inputs;
    private final ImmutableSet<String> rankKnown;
    private final Map<String, Value> inits = new HashMap<>();
    private boolean closed;

    Session(Onnx.GraphProto g, PrecisionPlan plan, List<String> observed) {
      this.g = g;
      this.plan = plan;
      for (Onnx.TensorProto t : g.getInitializerList()) {
        inits.put(t.getName(), Value.of(t));
      }
      Set<String> outs = new LinkedHashSet<>();
      g.getOutputList().forEach(o -> outs.add(o.getName()));
      outs.addAll(observed);
      this.outputs = ImmutableList.copyOf(outs);
      ImmutableList.Builder<TensorInfo> in = ImmutableList.builder();
      ImmutableSet.Builder<String> ranked = ImmutableSet.builder();
      for (Onnx.ValueInfoProto v : g.getInputList()) {
        if (inits.containsKey(v.getName())) {
          continue; // an initializer listed as input (IR < 4) is not fed
        }
        var tt = v.getType().getTensorType();
        long[] shape =
            tt.getShape().getDimList().stream()
                .mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1)
                .toArray();
        in.add(new TensorInfo(v.getName(), DType.fromOnnxCode(tt.getElemType()), shape));
        if (tt.hasShape()) {
          ranked.add(v.getName());
        }
      }
      this.inputs = in.build();
      this.rankKnown = ranked.build();
    }

    @Override
    public List<TensorInfo> inputs() {
      return inputs;
    }

    @Override
    public List<String> outputNames() {
      return outputs;
    }

    @Override
    public RunResult run(Map<String, Tensor> feed) {
      for (TensorInfo in : inputs) {
        Tensor t = feed.get(in.name());
        if (t == null || rankKnown.contains(in.name()) && !in.accepts(t)) {
          throw new IllegalArgumentException("input " + in.describe() + " expected, got " + t);
        }
      }
      Map<String, Value> env = new HashMap<>(inits);
      feed.forEach((k, v) -> env.put(k, Value.of(v)));
      for (Onnx.NodeProto n : g.getNodeList()) {
        boolean half = plan.isFp16(n.getName());
        List<Value> args = new ArrayList<>();
        for (String i : n.getInputList()) {
          Value v = env.get(i);
          if (v == null) {
            throw new IllegalArgumentException("node " + n.getName() + " reads missing " + i);
          }
          args.add(half ? v.roundedToHalf() : v);
        }
        Value out = InterpreterOps.eval(n, args);
        env.put(n.getOutput(0), half ? out.roundedToHalf() : out);
      }
      Map<String, Tensor> outs = new LinkedHashMap<>();
      for (String name : outputs) {
        Value v = env.get(name);
        if (v == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        outs.put(name, v.toTensor());
      }
      return new RunResult(ImmutableMap.copyOf(outs), Duration.ZERO);
    }

    @Override
    public BuildStats buildStats() {
      return new BuildStats(Duration.ZERO, outputs.size(), false, ImmutableList.of());
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        OPEN.decrementAndGet();
      }
    }
  }
}
