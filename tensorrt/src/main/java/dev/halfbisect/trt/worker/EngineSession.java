package dev.halfbisect.trt.worker;

import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreate;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.trt.protocol.Response;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer.TensorIOMode;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;

/**
 * A built engine ready to run: its execution context with input shapes fixed, one device buffer per
 * I/O tensor and a CUDA stream. Inputs are converted to the engine's dtypes (int64 to int32, float
 * to half, ...) and outputs come back in the engine's dtype as core tensors.
 */
final class EngineSession {
  private record Io(String name, DType dtype, long[] shape, long bytes, Pointer device) {}

  private final ICudaEngine engine;
  private final IExecutionContext context;
  private final CUstream_st stream;
  private final Map<String, Io> inputs;
  private final Map<String, Io> outputs;
  private final ImmutableList<String> outputOrder;

  private EngineSession(
      ICudaEngine engine,
      IExecutionContext context,
      CUstream_st stream,
      Map<String, Io> inputs,
      Map<String, Io> outputs,
      ImmutableList<String> outputOrder) {
    this.engine = engine;
    this.context = context;
    this.stream = stream;
    this.inputs = inputs;
    this.outputs = outputs;
    this.outputOrder = outputOrder;
  }

  static EngineSession create(
      ICudaEngine engine, Map<String, long[]> inputShapes, ImmutableList<String> outputOrder) {
    IExecutionContext ctx = engine.createExecutionContext();
    if (ctx == null || ctx.isNull()) {
      throw new IllegalStateException(
          "TensorRT could not create an execution context (out of GPU memory?)");
    }
    Map<String, Io> ins = new LinkedHashMap<>();
    Map<String, Io> outs = new LinkedHashMap<>();
    List<String> outNames = new ArrayList<>();
    for (int i = 0; i < engine.getNbIOTensors(); i++) {
      String name = engine.getIOTensorName(i);
      if (engine.getTensorIOMode(name).value == TensorIOMode.kINPUT.value) {
        long[] shape = inputShapes.get(name);
        if (!ctx.setInputShape(name, NativeTypes.dims(shape))) {
          throw new IllegalArgumentException(
              "TensorRT rejected shape " + java.util.Arrays.toString(shape) + " for input " + name);
        }
      } else {
        outNames.add(name);
      }
    }
    for (int i = 0; i < engine.getNbIOTensors(); i++) {
      String name = engine.getIOTensorName(i);
      boolean input = engine.getTensorIOMode(name).value == TensorIOMode.kINPUT.value;
      DType dt = NativeTypes.dtype(engine.getTensorDataType(name));
      long[] shape = input ? inputShapes.get(name) : NativeTypes.shape(ctx.getTensorShape(name));
      for (long d : shape) {
        if (d < 0) {
          throw new IllegalStateException(
              "output "
                  + name
                  + " has a data-dependent shape "
                  + java.util.Arrays.toString(shape)
                  + ", which this backend does not support");
        }
      }
      long bytes = Tensor.elementCount(shape) * dt.byteSize();
      Pointer dev = new Pointer();
      TrtService.check(
          cudaMalloc(dev, Math.max(1, bytes)), "cudaMalloc of " + bytes + " bytes for " + name);
      if (!ctx.setTensorAddress(name, dev)) {
        throw new IllegalStateException("TensorRT rejected the device address of " + name);
      }
      (input ? ins : outs).put(name, new Io(name, dt, shape, bytes, dev));
    }
    CUstream_st stream = new CUstream_st();
    TrtService.check(cudaStreamCreate(stream), "cudaStreamCreate");
    List<String> order = new ArrayList<>(outputOrder);
    for (String n : outNames) {
      if (!order.contains(n)) {
        order.add(n);
      }
    }
    return new EngineSession(engine, ctx, stream, ins, outs, ImmutableList.copyOf(order));
  }

  ImmutableList<TensorInfo> inputInfos() {
    return inputs.values().stream()
        .map(io -> new TensorInfo(io.name(), io.dtype(), io.shape()))
        .collect(ImmutableList.toImmutableList());
  }

  ImmutableList<String> outputNames() {
    return outputOrder;
  }

  Response run(Map<String, Tensor> given) {
    upload(given);
    long t0 = System.nanoTime();
    enqueueAndSync();
    long nanos = System.nanoTime() - t0;
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (String name : outputOrder) {
      Io io = outputs.get(name);
      byte[] raw = new byte[(int) io.bytes()];
      try (BytePointer host = new BytePointer(Math.max(1, io.bytes()))) {
        TrtService.check(
            cudaMemcpy(host, io.device(), io.bytes(), cudaMemcpyDeviceToHost), "copy of " + name);
        host.get(raw);
      }
      out.put(
          name, Tensor.ofBytes(io.dtype(), io.shape(), ByteBuffer.wrap(raw).asReadOnlyBuffer()));
    }
    return new Response.Result(ImmutableMap.copyOf(out), nanos);
  }

  /**
   * Issue 20: uploads the inputs once, runs {@code warmup} untimed inferences, then times {@code
   * runs} inferences between two CUDA events on the stream (GPU time, no host copies). When events
   * cannot be created the host wall time around enqueue + synchronize is measured instead, and the
   * answer says so.
   */
  Response time(Map<String, Tensor> given, int warmup, int runs) {
    upload(given);
    for (int i = 0; i < warmup; i++) {
      enqueueAndSync();
    }
    long[] nanos = new long[runs];
    CUevent_st start = new CUevent_st();
    CUevent_st stop = new CUevent_st();
    boolean events = cudaEventCreate(start) == 0;
    if (events && cudaEventCreate(stop) != 0) {
      cudaEventDestroy(start);
      events = false;
    }
    if (!events) {
      WorkerLog.warn("CUDA events unavailable; timing wall time around enqueue + synchronize");
      for (int i = 0; i < runs; i++) {
        long t0 = System.nanoTime();
        enqueueAndSync();
        nanos[i] = System.nanoTime() - t0;
      }
      return new Response.Timed(nanos, false);
    }
    try {
      float[] ms = new float[1];
      for (int i = 0; i < runs; i++) {
        TrtService.check(cudaEventRecord(start, stream), "cudaEventRecord");
        if (!context.enqueueV3(stream)) {
          throw new IllegalStateException("TensorRT enqueueV3 failed");
        }
        TrtService.check(cudaEventRecord(stop, stream), "cudaEventRecord");
        TrtService.check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        TrtService.check(cudaEventElapsedTime(ms, start, stop), "cudaEventElapsedTime");
        nanos[i] = Math.round(ms[0] * 1e6);
      }
    } finally {
      cudaEventDestroy(start);
      cudaEventDestroy(stop);
    }
    return new Response.Timed(nanos, true);
  }

  private void enqueueAndSync() {
    if (!context.enqueueV3(stream)) {
      throw new IllegalStateException("TensorRT enqueueV3 failed");
    }
    TrtService.check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  }

  private void upload(Map<String, Tensor> given) {
    for (Io io : inputs.values()) {
      Tensor t = given.get(io.name());
      if (t == null) {
        throw new IllegalArgumentException("missing input " + io.name());
      }
      if (!java.util.Arrays.equals(t.shape(), io.shape())) {
        throw new IllegalArgumentException(
            "input "
                + io.name()
                + " has shape "
                + Tensor.shapeToString(t.shape())
                + " but the engine was built for "
                + Tensor.shapeToString(io.shape()));
      }
      ByteBuffer b = convert(t, io.dtype()).bytes();
      byte[] raw = new byte[b.remaining()];
      b.get(raw);
      try (BytePointer host = new BytePointer(raw)) {
        TrtService.check(
            cudaMemcpy(io.device(), host, raw.length, cudaMemcpyHostToDevice),
            "copy of " + io.name());
      }
    }
  }

  /** Frees device buffers; the engine and context stay until the process exits (no deallocator). */
  void release() {
    for (Io io : inputs.values()) {
      cudaFree(io.device());
    }
    for (Io io : outputs.values()) {
      cudaFree(io.device());
    }
  }

  /**
   * {@code t} in {@code dtype}: shared when equal, exact for integer narrowing, rounded for half.
   */
  static Tensor convert(Tensor t, DType dtype) {
    if (t.dtype() == dtype) {
      return t;
    }
    if (!dtype.isFloatingPoint() && !t.dtype().isFloatingPoint()) {
      long[] v = t.toLongArray();
      if (dtype == DType.INT32) {
        int[] i = new int[v.length];
        for (int k = 0; k < v.length; k++) {
          if (v[k] != (int) v[k]) {
            throw new IllegalArgumentException(
                "value " + v[k] + " does not fit the engine's int32 input");
          }
          i[k] = (int) v[k];
        }
        return Tensor.ofInts(t.shape(), i);
      }
      if (dtype == DType.INT64) {
        return Tensor.ofLongs(t.shape(), v);
      }
    }
    return Tensor.fromFloats(dtype, t.shape(), t.toFloatArray());
  }

  @Override
  public String toString() {
    return "EngineSession[" + engine.getNbLayers() + " layers]";
  }
}
