package dev.halfbisect.bisect;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.DType;
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
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test stand-in for the project's ORT backend (not on this branch yet): ONNX Runtime CPU, mode
 * {@code fp32}, and {@code fp16-emulated} where every FP16 node's float inputs and outputs pass
 * through Cast(FLOAT16) then Cast(FLOAT); constants (initializers, Constant outputs) are clipped to
 * the FP16 range first, as FP16 builds do with weights. Observed tensors become graph outputs.
 */
final class OrtTestBackend implements Backend {
  final AtomicInteger fp16Builds = new AtomicInteger();
  final AtomicInteger fp32Builds = new AtomicInteger();

  @Override
  public String name() {
    return "ort-test";
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
  public BackendSession open(ModelRef ref, BuildOptions options) throws BackendException {
    boolean fp16 = options.mode().equals("fp16-emulated");
    (fp16 ? fp16Builds : fp32Builds).incrementAndGet();
    long t0 = System.nanoTime();
    try {
      ModelGraph g = ModelGraph.of(Onnx.ModelProto.parseFrom(ref.bytes()), ref.baseDir().orElse(null), ref.name());
      Onnx.GraphProto.Builder graph = g.proto().getGraph().toBuilder();
      for (String o : options.observed()) {
        if (!g.graphOutputs().contains(o)) {
          graph.addOutput(ProbeGraphs.valueInfo(g, o));
        }
      }
      if (fp16) {
        emulate(g, graph, options.plan());
      }
      byte[] bytes = g.proto().toBuilder().setGraph(graph).build().toByteArray();
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions so = new OrtSession.SessionOptions();
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
      so.setIntraOpNumThreads(2);
      OrtSession s = env.createSession(bytes, so);
      return new Session(env, s, Duration.ofNanos(System.nanoTime() - t0));
    } catch (IOException | OrtException e) {
      throw new BackendException("ort-test cannot build " + ref.name() + ": " + e.getMessage(), e);
    }
  }

  /** Rewrites FP16 nodes' float inputs and outputs through Cast pairs. */
  private static void emulate(ModelGraph g, Onnx.GraphProto.Builder graph, PrecisionPlan plan) {
    List<Onnx.NodeProto> out = new ArrayList<>();
    Map<String, String> rounded = new HashMap<>();
    int k = 0;
    for (Onnx.NodeProto n : graph.getNodeList()) {
      // Constants are data, not compute: their consumers clip and round them.
      if (!plan.isFp16(n.getName()) || Set.of("Cast", "Shape", "Constant").contains(n.getOpType())) {
        out.add(n);
        continue;
      }
      Onnx.NodeProto.Builder b = n.toBuilder();
      for (int i = 0; i < n.getInputCount(); i++) {
        String in = n.getInput(i);
        if (in.isEmpty() || !g.isFloat(in) || g.elementType(in).get() != DType.FLOAT32) {
          continue;
        }
        String r = rounded.get(in);
        if (r == null) {
          r = in + "__r16_" + (k++);
          boolean constant = g.isInitializer(in)
              || g.producer(in).map(p -> p.getOpType().equals("Constant")).orElse(false);
          if (constant) {
            String clipped = in + "__clip";
            ensureRangeConstants(graph);
            out.add(Onnx.NodeProto.newBuilder().setOpType("Clip").setName(clipped).addInput(in)
                .addInput("__fp16_lowest").addInput("__fp16_max").addOutput(clipped).build());
            out.addAll(castPair(clipped, r));
          } else {
            out.addAll(castPair(in, r));
          }
          rounded.put(in, r);
        }
        b.setInput(i, r);
      }
      List<Onnx.NodeProto> after = new ArrayList<>();
      for (int i = 0; i < n.getOutputCount(); i++) {
        String o = n.getOutput(i);
        if (o.isEmpty() || !g.isFloat(o) || g.elementType(o).get() != DType.FLOAT32) {
          continue;
        }
        String raw = o + "__raw32";
        b.setOutput(i, raw);
        after.addAll(castPair(raw, o));
      }
      out.add(b.build());
      out.addAll(after);
    }
    graph.clearNode().addAllNode(out);
  }

  private static void ensureRangeConstants(Onnx.GraphProto.Builder graph) {
    if (graph.getInitializerList().stream().noneMatch(t -> t.getName().equals("__fp16_max"))) {
      graph.addInitializer(Onnx.TensorProto.newBuilder().setName("__fp16_max").setDataType(1).addFloatData(65504f));
      graph.addInitializer(Onnx.TensorProto.newBuilder().setName("__fp16_lowest").setDataType(1).addFloatData(-65504f));
    }
  }

  private static List<Onnx.NodeProto> castPair(String in, String out) {
    String mid = out + "__h";
    return List.of(cast(in, mid, 10, out + "__to16"), cast(mid, out, 1, out + "__to32"));
  }

  private static Onnx.NodeProto cast(String in, String out, int to, String name) {
    return Onnx.NodeProto.newBuilder().setOpType("Cast").setName(name).addInput(in).addOutput(out)
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("to").setType(Onnx.AttributeProto.AttributeType.INT)
            .setI(to)).build();
  }

  private static final class Session implements BackendSession {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Duration build;

    Session(OrtEnvironment env, OrtSession session, Duration build) {
      this.env = env;
      this.session = session;
      this.build = build;
    }

    @Override
    public List<TensorInfo> inputs() {
      List<TensorInfo> l = new ArrayList<>();
      try {
        for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
          ai.onnxruntime.TensorInfo ti = (ai.onnxruntime.TensorInfo) e.getValue().getInfo();
          l.add(new TensorInfo(e.getKey(), DType.fromOnnxCode(ti.onnxType.value), ti.getShape()));
        }
      } catch (OrtException ex) {
        throw new IllegalStateException(ex);
      }
      return l;
    }

    @Override
    public List<String> outputNames() {
      return new ArrayList<>(session.getOutputNames());
    }

    @Override
    public RunResult run(Map<String, Tensor> inputs) throws BackendException {
      long t0 = System.nanoTime();
      Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
      try {
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
          Tensor t = e.getValue();
          ByteBuffer direct = ByteBuffer.allocateDirect(t.bytes().remaining()).order(ByteOrder.LITTLE_ENDIAN);
          direct.put(t.bytes().duplicate()).flip();
          ai.onnxruntime.OnnxJavaType jt = t.dtype() == DType.INT64 ? ai.onnxruntime.OnnxJavaType.INT64
              : ai.onnxruntime.OnnxJavaType.FLOAT;
          feeds.put(e.getKey(), OnnxTensor.createTensor(env, direct, t.shape(), jt));
        }
        Map<String, Tensor> outs = new LinkedHashMap<>();
        try (OrtSession.Result r = session.run(feeds)) {
          for (Map.Entry<String, OnnxValue> e : r) {
            OnnxTensor v = (OnnxTensor) e.getValue();
            long[] shape = v.getInfo().getShape();
            if (v.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
              float[] f = new float[(int) v.getInfo().getNumElements()];
              v.getFloatBuffer().get(f);
              outs.put(e.getKey(), Tensor.ofFloats(shape, f));
            } else if (v.getInfo().type == ai.onnxruntime.OnnxJavaType.INT64) {
              long[] f = new long[(int) v.getInfo().getNumElements()];
              v.getLongBuffer().get(f);
              outs.put(e.getKey(), Tensor.ofLongs(shape, f));
            }
          }
        }
        return new RunResult(ImmutableMap.copyOf(outs), Duration.ofNanos(System.nanoTime() - t0));
      } catch (OrtException e) {
        throw new BackendException("ort-test run failed: " + e.getMessage(), e);
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }

    @Override
    public BuildStats buildStats() {
      return new BuildStats(build, (int) session.getNumOutputs(), false, ImmutableList.of());
    }

    @Override
    public void close() {
      try {
        session.close();
      } catch (OrtException e) {
        throw new IllegalStateException(e);
      }
    }
  }

}
