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
import dev.halfbisect.onnx.Fp16Emulation;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test stand-in for the project's ORT backend (not on this branch yet): ONNX Runtime CPU, mode
 * {@code fp32}, and {@code fp16-emulated} through onnx-surgery's {@link Fp16Emulation} (the same
 * rewrite the ORT backend uses). Observed tensors become graph outputs.
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
      OnnxModel model = OnnxModel.of(g.proto().toBuilder().setGraph(graph).build(), ref.baseDir().orElse(null),
          ref.name());
      if (fp16) {
        model = Fp16Emulation.apply(model, options.plan());
      }
      byte[] bytes = model.toBytes();
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
