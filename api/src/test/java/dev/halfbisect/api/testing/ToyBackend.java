package dev.halfbisect.api.testing;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Availability;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.BuildStats;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test backend named {@code toy}: a Java interpreter for a few float32 ops (elementwise with
 * scalar or same-shape broadcasting, Cast, MatMul of 2-D tensors). Mode {@code fp16-emulated}
 * rounds the float inputs and outputs of every FP16 node of the plan to binary16, the semantics of
 * FP16 emulation in DESIGN.md. Counts builds so tests can check that sessions are closed.
 */
public final class ToyBackend implements Backend {
  /** Sessions opened and not yet closed, over all instances. */
  public static final java.util.concurrent.atomic.AtomicInteger OPEN = new java.util.concurrent.atomic.AtomicInteger();

  @Override
  public String name() {
    return "toy";
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
    Onnx.ModelProto proto;
    try {
      proto = Onnx.ModelProto.parseFrom(model.bytes());
    } catch (InvalidProtocolBufferException e) {
      throw new BackendException(model.name() + " is not ONNX: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new BackendException(e.getMessage(), e);
    }
    Onnx.GraphProto g = proto.getGraph();
    for (Onnx.NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("Fail")) {
        throw new BackendException("toy cannot build node " + n.getName() + " (op Fail)");
      }
    }
    PrecisionPlan plan = options.mode().equals("fp32") ? PrecisionPlan.allFp32() : options.plan();
    List<String> outs = new ArrayList<>();
    g.getOutputList().forEach(o -> outs.add(o.getName()));
    for (String o : options.observed()) {
      if (!outs.contains(o)) {
        outs.add(o);
      }
    }
    OPEN.incrementAndGet();
    return new Session(g, plan, ImmutableList.copyOf(outs));
  }

  private static final class Session implements BackendSession {
    private final Onnx.GraphProto g;
    private final PrecisionPlan plan;
    private final ImmutableList<String> outs;
    private boolean closed;

    Session(Onnx.GraphProto g, PrecisionPlan plan, ImmutableList<String> outs) {
      this.g = g;
      this.plan = plan;
      this.outs = outs;
    }

    @Override
    public List<TensorInfo> inputs() {
      List<TensorInfo> r = new ArrayList<>();
      for (Onnx.ValueInfoProto v : g.getInputList()) {
        var tt = v.getType().getTensorType();
        r.add(new TensorInfo(v.getName(), DType.fromOnnxCode(tt.getElemType()),
            tt.getShape().getDimList().stream().mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1).toArray()));
      }
      return r;
    }

    @Override
    public List<String> outputNames() {
      return outs;
    }

    @Override
    public RunResult run(Map<String, Tensor> inputs) {
      for (TensorInfo in : inputs()) {
        Tensor t = inputs.get(in.name());
        boolean rankKnown = g.getInputList().stream().filter(v -> v.getName().equals(in.name())).findFirst()
            .map(v -> v.getType().getTensorType().hasShape()).orElse(true);
        if (t == null || rankKnown && !in.accepts(t)) {
          throw new IllegalArgumentException("input " + in.describe() + " expected, got " + t);
        }
      }
      Map<String, Tensor> values = new HashMap<>(inputs);
      for (Onnx.TensorProto init : g.getInitializerList()) {
        values.put(init.getName(), fromProto(init));
      }
      for (Onnx.NodeProto n : g.getNodeList()) {
        boolean half = plan.isFp16(n.getName());
        List<Tensor> ins = new ArrayList<>();
        for (String i : n.getInputList()) {
          Tensor t = values.get(i);
          if (t == null) {
            throw new IllegalStateException("no value for " + i);
          }
          ins.add(half && t.dtype() == DType.FLOAT32 ? round(t) : t);
        }
        List<Tensor> res = eval(n, ins);
        for (int k = 0; k < n.getOutputCount(); k++) {
          Tensor t = res.get(k);
          values.put(n.getOutput(k), half && t.dtype() == DType.FLOAT32 ? round(t) : t);
        }
      }
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (String o : outs) {
        out.put(o, values.get(o));
      }
      return new RunResult(ImmutableMap.copyOf(out), Duration.ZERO);
    }

    @Override
    public BuildStats buildStats() {
      return new BuildStats(Duration.ZERO, outs.size(), false, ImmutableList.of());
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        OPEN.decrementAndGet();
      }
    }
  }

  static Tensor round(Tensor t) {
    float[] v = t.toFloatArray();
    Half.roundInPlace(v);
    return Tensor.ofFloats(t.shape(), v);
  }

  static Tensor fromProto(Onnx.TensorProto p) {
    long[] shape = p.getDimsList().stream().mapToLong(Long::longValue).toArray();
    if (p.getDataType() == 1) {
      if (!p.getRawData().isEmpty()) {
        float[] v = new float[p.getRawData().size() / 4];
        ByteBuffer.wrap(p.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return Tensor.ofFloats(shape, v);
      }
      float[] v = new float[p.getFloatDataCount()];
      for (int i = 0; i < v.length; i++) {
        v[i] = p.getFloatData(i);
      }
      return Tensor.ofFloats(shape, v);
    }
    if (p.getDataType() == 7) {
      return Tensor.ofLongs(shape, p.getInt64DataList().stream().mapToLong(Long::longValue).toArray());
    }
    throw new IllegalArgumentException("toy backend handles float32/int64 initializers only");
  }

  private static List<Tensor> eval(Onnx.NodeProto n, List<Tensor> in) {
    switch (n.getOpType()) {
      case "Identity": return List.of(in.get(0));
      case "Relu": return List.of(map(in.get(0), x -> Math.max(0, x)));
      case "Neg": return List.of(map(in.get(0), x -> -x));
      case "Exp": return List.of(map(in.get(0), x -> (float) Math.exp(x)));
      case "Sqrt": return List.of(map(in.get(0), x -> (float) Math.sqrt(x)));
      case "Tanh": return List.of(map(in.get(0), x -> (float) Math.tanh(x)));
      case "Add": return List.of(zip(in.get(0), in.get(1), Float::sum));
      case "Sub": return List.of(zip(in.get(0), in.get(1), (a, b) -> a - b));
      case "Mul": return List.of(zip(in.get(0), in.get(1), (a, b) -> a * b));
      case "Div": return List.of(zip(in.get(0), in.get(1), (a, b) -> a / b));
      case "Pow": return List.of(zip(in.get(0), in.get(1), (a, b) -> (float) Math.pow(a, b)));
      case "Cast": {
        long to = n.getAttributeList().stream().filter(a -> a.getName().equals("to")).findFirst().orElseThrow().getI();
        float[] v = in.get(0).toFloatArray();
        if (to == 10) {
          return List.of(Tensor.fromFloats(DType.FLOAT16, in.get(0).shape(), v));
        }
        return List.of(Tensor.fromFloats(DType.fromOnnxCode((int) to), in.get(0).shape(), v));
      }
      case "MatMul": {
        Tensor a = in.get(0);
        Tensor b = in.get(1);
        int m = (int) a.dim(0);
        int k = (int) a.dim(1);
        int nn = (int) b.dim(1);
        float[] av = a.toFloatArray();
        float[] bv = b.toFloatArray();
        float[] c = new float[m * nn];
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < nn; j++) {
            float s = 0;
            for (int q = 0; q < k; q++) {
              s += av[i * k + q] * bv[q * nn + j];
            }
            c[i * nn + j] = s;
          }
        }
        return List.of(Tensor.ofFloats(new long[] {m, nn}, c));
      }
      default:
        throw new IllegalArgumentException("toy backend has no op " + n.getOpType());
    }
  }

  private interface F1 {
    float f(float x);
  }

  private interface F2 {
    float f(float a, float b);
  }

  private static Tensor map(Tensor t, F1 f) {
    float[] v = t.toFloatArray();
    for (int i = 0; i < v.length; i++) {
      v[i] = f.f(v[i]);
    }
    return Tensor.ofFloats(t.shape(), v);
  }

  private static Tensor zip(Tensor a, Tensor b, F2 f) {
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    Tensor big = x.length >= y.length ? a : b;
    float[] r = new float[Math.max(x.length, y.length)];
    for (int i = 0; i < r.length; i++) {
      r[i] = f.f(x[x.length == 1 ? 0 : i % x.length], y[y.length == 1 ? 0 : i % y.length]);
    }
    return Tensor.ofFloats(big.shape(), r);
  }
}
