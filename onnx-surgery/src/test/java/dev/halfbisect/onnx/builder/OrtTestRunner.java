package dev.halfbisect.onnx.builder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/** Runs a model proto in ONNX Runtime (CPU) for tests; every output comes back as floats. */
public final class OrtTestRunner {
  private OrtTestRunner() {}

  public static Map<String, float[]> run(Onnx.ModelProto model, Map<String, Tensor> inputs) {
    return run(model, inputs, OrtSession.SessionOptions.OptLevel.ALL_OPT);
  }

  public static Map<String, float[]> run(
      Onnx.ModelProto model, Map<String, Tensor> inputs, OrtSession.SessionOptions.OptLevel level) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(level);
      opts.setIntraOpNumThreads(1);
      try (OrtSession session = env.createSession(model.toByteArray(), opts)) {
        Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
        try {
          for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            feeds.put(e.getKey(), toOrt(env, e.getValue()));
          }
          Map<String, float[]> out = new LinkedHashMap<>();
          try (OrtSession.Result r = session.run(feeds)) {
            for (Map.Entry<String, OnnxValue> e : r) {
              out.put(e.getKey(), toFloats((OnnxTensor) e.getValue()));
            }
          }
          return out;
        } finally {
          feeds.values().forEach(OnnxTensor::close);
        }
      }
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
    }
  }

  private static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
    ByteBuffer direct =
        ByteBuffer.allocateDirect(t.intSize() * t.dtype().byteSize())
            .order(ByteOrder.nativeOrder());
    ByteBuffer src = t.bytes();
    switch (t.dtype()) {
      case FLOAT32:
        direct.asFloatBuffer().put(src.asFloatBuffer());
        return OnnxTensor.createTensor(env, direct.asFloatBuffer(), t.shape());
      case INT64:
        direct.asLongBuffer().put(src.asLongBuffer());
        return OnnxTensor.createTensor(env, direct.asLongBuffer(), t.shape());
      case FLOAT16:
        direct.put(src);
        direct.flip();
        return OnnxTensor.createTensor(env, direct, t.shape(), ai.onnxruntime.OnnxJavaType.FLOAT16);
      default:
        throw new IllegalArgumentException("test runner does not feed " + t.dtype());
    }
  }

  private static float[] toFloats(OnnxTensor t) {
    TensorInfo info = t.getInfo();
    int n = (int) info.getNumElements();
    float[] out = new float[n];
    switch (info.type) {
      case FLOAT:
        t.getFloatBuffer().get(out);
        return out;
      case FLOAT16:
        {
          ByteBuffer b = t.getByteBuffer().order(ByteOrder.nativeOrder());
          for (int i = 0; i < n; i++) {
            out[i] = Half.toFloat(b.getShort(2 * i));
          }
          return out;
        }
      case INT64:
        {
          long[] l = new long[n];
          t.getLongBuffer().get(l);
          for (int i = 0; i < n; i++) {
            out[i] = l[i];
          }
          return out;
        }
      case BOOL:
        {
          ByteBuffer b = t.getByteBuffer();
          for (int i = 0; i < n; i++) {
            out[i] = b.get(i) != 0 ? 1 : 0;
          }
          return out;
        }
      default:
        throw new IllegalArgumentException("test runner does not read " + info.type);
    }
  }

  /** The float values of a float32 initializer of the model. */
  public static float[] initializerFloats(Onnx.ModelProto model, String name) {
    for (Onnx.TensorProto t : model.getGraph().getInitializerList()) {
      if (t.getName().equals(name)) {
        if (t.getDataType() != DType.FLOAT32.onnxCode()) {
          throw new IllegalArgumentException(name + " is not float32");
        }
        if (t.hasRawData()) {
          float[] out = new float[t.getRawData().size() / 4];
          t.getRawData()
              .asReadOnlyByteBuffer()
              .order(ByteOrder.LITTLE_ENDIAN)
              .asFloatBuffer()
              .get(out);
          return out;
        }
        float[] out = new float[t.getFloatDataCount()];
        for (int i = 0; i < out.length; i++) {
          out[i] = t.getFloatData(i);
        }
        return out;
      }
    }
    throw new IllegalArgumentException("no initializer " + name);
  }
}
