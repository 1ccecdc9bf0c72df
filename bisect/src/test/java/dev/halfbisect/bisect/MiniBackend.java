package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test backend that interprets small ONNX graphs in Java: {@code fp32} computes in float;
 * {@code fp16-emulated} rounds every FP16 node's float inputs and outputs to binary16 (overflow to
 * inf), exactly the project's emulation semantics. It counts builds per mode and can be told to
 * refuse builds observing too many tensors or a given tensor (like TensorRT with "mark all").
 */
final class MiniBackend implements Backend {
  final AtomicInteger fp32Builds = new AtomicInteger();
  final AtomicInteger fp16Builds = new AtomicInteger();
  int maxObserved = Integer.MAX_VALUE;
  final Set<String> unobservable = new HashSet<>();
  final Set<String> crashWhenPresent = new HashSet<>();
  /** Tensors (and their shadow copies) the "compiled network" folded away, like TensorRT's constant folding. */
  final Set<String> folded = new HashSet<>();
  boolean foldOnReference = true;

  @Override
  public String name() {
    return "mini";
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
    } catch (IOException e) {
      throw new BackendException("cannot parse " + model.name(), e);
    }
    if (fp16 && options.observed().size() > maxObserved) {
      throw new BackendException("Could not find any implementation for node {ForeignNode} ("
          + options.observed().size() + " observed)");
    }
    List<String> gone = new ArrayList<>();
    for (String o : options.observed()) {
      String base = o.endsWith(ProbeGraphs.SHADOW_SUFFIX) ? o.substring(0, o.length() - ProbeGraphs.SHADOW_SUFFIX.length()) : o;
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
    }
    return new Session(proto, options, fp16);
  }

  private static final class Session implements BackendSession {
    private final Onnx.GraphProto g;
    private final BuildOptions options;
    private final boolean fp16;
    private final Map<String, Val> inits = new HashMap<>();

    Session(Onnx.ModelProto m, BuildOptions options, boolean fp16) {
      this.g = m.getGraph();
      this.options = options;
      this.fp16 = fp16;
      for (Onnx.TensorProto t : g.getInitializerList()) {
        inits.put(t.getName(), Val.of(t));
      }
    }

    @Override
    public List<TensorInfo> inputs() {
      List<TensorInfo> l = new ArrayList<>();
      for (Onnx.ValueInfoProto v : g.getInputList()) {
        if (!inits.containsKey(v.getName())) {
          var tt = v.getType().getTensorType();
          long[] shape = tt.getShape().getDimList().stream().mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1)
              .toArray();
          if (!tt.hasShape()) {
            shape = null;
          }
          l.add(new TensorInfo(v.getName(), DType.fromOnnxCode(tt.getElemType()),
              shape == null ? new long[0] : shape));
        }
      }
      return l;
    }

    @Override
    public List<String> outputNames() {
      List<String> l = new ArrayList<>();
      g.getOutputList().forEach(o -> l.add(o.getName()));
      l.addAll(options.observed());
      return l;
    }

    @Override
    public RunResult run(Map<String, Tensor> in) {
      Map<String, Val> env = new HashMap<>(inits);
      in.forEach((k, v) -> env.put(k, new Val(v.shape(), v.toFloatArray())));
      PrecisionPlan plan = options.plan();
      for (Onnx.NodeProto n : g.getNodeList()) {
        boolean half = fp16 && plan.isFp16(n.getName());
        List<Val> args = new ArrayList<>();
        for (String i : n.getInputList()) {
          Val v = env.get(i);
          if (v == null) {
            throw new IllegalArgumentException("node " + n.getName() + " reads missing " + i);
          }
          args.add(half ? v.rounded() : v);
        }
        Val out = Ops.eval(n, args);
        env.put(n.getOutput(0), half ? out.rounded() : out);
      }
      Map<String, Tensor> outs = new LinkedHashMap<>();
      for (String name : outputNames()) {
        Val v = env.get(name);
        if (v == null) {
          throw new IllegalArgumentException("no tensor " + name);
        }
        outs.put(name, Tensor.ofFloats(v.shape, v.data));
      }
      return new RunResult(com.google.common.collect.ImmutableMap.copyOf(outs), Duration.ZERO);
    }

    @Override
    public BuildStats buildStats() {
      return new BuildStats(Duration.ZERO, outputNames().size(), false, ImmutableList.of());
    }

    @Override
    public void close() {}
  }

  /** A float tensor value in the interpreter. */
  record Val(long[] shape, float[] data) {
    static Val of(Onnx.TensorProto t) {
      long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
      if (t.getFloatDataCount() > 0) {
        float[] d = new float[t.getFloatDataCount()];
        for (int i = 0; i < d.length; i++) {
          d[i] = t.getFloatData(i);
        }
        return new Val(shape, d);
      }
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] d = new float[b.remaining() / 4];
      b.asFloatBuffer().get(d);
      return new Val(shape, d);
    }

    Val rounded() {
      float[] r = data.clone();
      Half.roundInPlace(r);
      return new Val(shape, r);
    }
  }
}
