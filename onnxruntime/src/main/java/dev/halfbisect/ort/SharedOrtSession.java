package dev.halfbisect.ort;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.TensorInfo;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One native {@link OrtSession} shared by every {@link OrtBackendSession} view handed out for the
 * same build, and by the backend's cache. Reference counted: each holder calls {@link #retain()}
 * once and {@link #release()} once; the native session closes when the count reaches zero, so a
 * view closed by one caller never breaks another, and an evicted cache entry stays usable by the
 * views still open on it.
 */
final class SharedOrtSession {
  private final String modelName;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final ImmutableList<TensorInfo> inputs;
  private final ImmutableList<String> outputNames;
  private final ImmutableSet<String> outputSet;
  private final Duration buildTime;
  private final ImmutableList<String> warnings;
  private int references;

  private SharedOrtSession(
      String modelName,
      OrtEnvironment env,
      OrtSession session,
      ImmutableList<TensorInfo> inputs,
      ImmutableList<String> outputNames,
      Duration buildTime,
      ImmutableList<String> warnings) {
    this.modelName = modelName;
    this.env = env;
    this.session = session;
    this.inputs = inputs;
    this.outputNames = outputNames;
    this.outputSet = ImmutableSet.copyOf(outputNames);
    this.buildTime = buildTime;
    this.warnings = warnings;
    this.references = 1;
  }

  /**
   * Wraps a freshly created session; the caller holds the first reference. Closes the session if
   * its inputs cannot be described.
   */
  static SharedOrtSession wrap(
      String modelName,
      OrtEnvironment env,
      OrtSession session,
      Duration buildTime,
      List<String> warnings)
      throws BackendException {
    try {
      ImmutableList.Builder<TensorInfo> inputs = ImmutableList.builder();
      for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
        if (!(e.getValue().getInfo() instanceof ai.onnxruntime.TensorInfo)) {
          throw new BackendException(
              "model '"
                  + modelName
                  + "': input '"
                  + e.getKey()
                  + "' is not a tensor ("
                  + e.getValue().getInfo()
                  + ")");
        }
        ai.onnxruntime.TensorInfo ti = (ai.onnxruntime.TensorInfo) e.getValue().getInfo();
        DType dtype = TensorConversion.dtypeOf(ti.onnxType);
        if (dtype == null) {
          throw new BackendException(
              "model '"
                  + modelName
                  + "': input '"
                  + e.getKey()
                  + "' has element type "
                  + ti.onnxType
                  + ", which halfbisect does not handle");
        }
        inputs.add(new TensorInfo(e.getKey(), dtype, ti.getShape()));
      }
      // Graph outputs in model order: the original outputs, then the marked observed tensors.
      ImmutableList<String> outputNames = ImmutableList.copyOf(session.getOutputNames());
      return new SharedOrtSession(
          modelName,
          env,
          session,
          inputs.build(),
          outputNames,
          buildTime,
          ImmutableList.copyOf(warnings));
    } catch (OrtException | BackendException e) {
      closeQuietly(session);
      if (e instanceof BackendException) {
        throw (BackendException) e;
      }
      throw new BackendException(
          "model '" + modelName + "': cannot read session inputs: " + e.getMessage(), e);
    }
  }

  ImmutableList<TensorInfo> inputs() {
    return inputs;
  }

  ImmutableList<String> outputNames() {
    return outputNames;
  }

  Duration buildTime() {
    return buildTime;
  }

  /** Warnings of the build, repeated in the statistics of every view. */
  ImmutableList<String> warnings() {
    return warnings;
  }

  String modelName() {
    return modelName;
  }

  synchronized void retain() {
    Preconditions.checkState(references > 0, "session of model '%s' is already closed", modelName);
    references++;
  }

  synchronized void release() {
    Preconditions.checkState(
        references > 0, "session of model '%s' released more often than retained", modelName);
    if (--references == 0) {
      closeQuietly(session);
    }
  }

  synchronized boolean isOpen() {
    return references > 0;
  }

  /** Runs one validated sample. ONNX Runtime sessions may run from several threads at once. */
  RunResult run(Map<String, Tensor> sample) throws BackendException {
    InputValidation.check(modelName, inputs, sample);
    Map<String, OnnxTensor> feed = new LinkedHashMap<>();
    try {
      for (TensorInfo info : inputs) {
        feed.put(info.name(), TensorConversion.toOnnx(env, sample.get(info.name())));
      }
      long start = System.nanoTime();
      try (OrtSession.Result result = session.run(feed, outputSet)) {
        Duration runTime = Duration.ofNanos(System.nanoTime() - start);
        ImmutableMap.Builder<String, Tensor> outputs = ImmutableMap.builder();
        for (String name : outputNames) {
          OnnxValue v =
              result
                  .get(name)
                  .orElseThrow(
                      () ->
                          new IllegalStateException(
                              "ONNX Runtime returned no value for output '" + name + "'"));
          if (!(v instanceof OnnxTensor)) {
            throw new BackendException(
                "model '" + modelName + "': output '" + name + "' is not a tensor");
          }
          outputs.put(name, TensorConversion.fromOnnx(name, (OnnxTensor) v));
        }
        return new RunResult(outputs.build(), runTime);
      }
    } catch (OrtException e) {
      throw new BackendException(
          "ONNX Runtime failed to run model '" + modelName + "': " + e.getMessage(), e);
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  private static void closeQuietly(OrtSession s) {
    try {
      s.close();
    } catch (OrtException e) {
      // Closing frees native memory only; nothing a caller could do about a failure here.
    }
  }
}
