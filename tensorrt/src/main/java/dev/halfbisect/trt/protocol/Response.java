package dev.halfbisect.trt.protocol;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TensorInfo;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/** Messages a worker answers with; one response per {@link Request}. Framed like requests. */
public sealed interface Response {
  int MAGIC = 0x48425453; // "HBTS"

  /** Why a request failed, so the parent throws the matching SPI exception. */
  enum FailureKind {
    /** TensorRT, CUDA or the GPU is missing: BackendUnavailableException. */
    UNAVAILABLE,
    /** The model cannot be parsed or built: BackendException. */
    BUILD_FAILED,
    /** Inputs or observed names do not fit the model: IllegalArgumentException. */
    BAD_ARGUMENT,
    /** Inference failed: BackendException. */
    RUN_FAILED,
    /**
     * Observed tensors the parsed network does not have (constant-folded):
     * UnobservableTensorsException.
     */
    UNOBSERVABLE
  }

  /** Success with a description (probe: GPU, compute capability, TensorRT version). */
  record Ok(String info) implements Response {}

  /**
   * A failure; {@code tensors} names the tensors concerned (for {@link FailureKind#UNOBSERVABLE}).
   */
  record Failure(FailureKind kind, String message, ImmutableList<String> tensors)
      implements Response {
    public Failure {
      tensors = ImmutableList.copyOf(tensors);
    }

    public Failure(FailureKind kind, String message) {
      this(kind, message, ImmutableList.of());
    }
  }

  /**
   * A built session.
   *
   * @param planCheck one line per pinned node: how the engine runs it (see PlanCheck)
   */
  record Built(
      ImmutableList<TensorInfo> inputs,
      ImmutableList<String> outputNames,
      long buildMillis,
      ImmutableList<String> warnings,
      ImmutableList<String> planCheck)
      implements Response {
    public Built {
      inputs = ImmutableList.copyOf(inputs);
      outputNames = ImmutableList.copyOf(outputNames);
      warnings = ImmutableList.copyOf(warnings);
      planCheck = ImmutableList.copyOf(planCheck);
    }
  }

  record Result(ImmutableMap<String, Tensor> outputs, long runNanos) implements Response {
    public Result {
      outputs = ImmutableMap.copyOf(outputs);
    }
  }

  /**
   * Latencies of a {@link Request.Time}, one per timed run.
   *
   * @param gpuEvents true when measured between CUDA events on the stream (GPU time), false when
   *     measured as host wall time around enqueue + synchronize
   */
  record Timed(long[] nanos, boolean gpuEvents) implements Response {
    public Timed {
      nanos = nanos.clone();
    }

    @Override
    public long[] nanos() {
      return nanos.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Timed t
          && t.gpuEvents == gpuEvents
          && java.util.Arrays.equals(t.nanos, nanos);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(nanos) * 31 + Boolean.hashCode(gpuEvents);
    }

    @Override
    public String toString() {
      return "Timed[" + nanos.length + " runs, gpuEvents=" + gpuEvents + "]";
    }
  }

  static void write(DataOutputStream out, Response r) throws IOException {
    out.writeInt(MAGIC);
    if (r instanceof Ok ok) {
      out.writeInt(1);
      WireFormat.writeString(out, ok.info());
    } else if (r instanceof Failure f) {
      out.writeInt(2);
      out.writeInt(f.kind().ordinal());
      WireFormat.writeString(out, f.message());
      WireFormat.writeStrings(out, f.tensors());
    } else if (r instanceof Built b) {
      out.writeInt(3);
      WireFormat.writeInfos(out, b.inputs());
      WireFormat.writeStrings(out, b.outputNames());
      out.writeLong(b.buildMillis());
      WireFormat.writeStrings(out, b.warnings());
      WireFormat.writeStrings(out, b.planCheck());
    } else if (r instanceof Result res) {
      out.writeInt(4);
      WireFormat.writeTensors(out, res.outputs());
      out.writeLong(res.runNanos());
    } else if (r instanceof Timed t) {
      out.writeInt(5);
      out.writeBoolean(t.gpuEvents());
      long[] n = t.nanos();
      out.writeInt(n.length);
      for (long x : n) {
        out.writeLong(x);
      }
    } else {
      throw new AssertionError(r);
    }
    out.flush();
  }

  /**
   * "#\n# ", the first bytes HotSpot writes to stdout when it dies of a signal in native code (its
   * fatal-error report goes to stdout whatever -XX:+DisplayVMOutputToStderr says, seen on JDK 17).
   */
  static final int JVM_FATAL_ERROR = 0x230a2320;

  static Response read(DataInputStream in) throws IOException {
    int magic = in.readInt();
    if (magic == JVM_FATAL_ERROR) {
      throw new ProtocolException(
          "the worker's JVM crashed (its fatal-error report went to the protocol's stdout; the"
              + " native stack is in hs_err_worker_pid<pid>.log beside the timing caches, or"
              + " where the worker's -XX:ErrorFile says)");
    }
    if (magic != MAGIC) {
      throw new ProtocolException(
          String.format(
              "corrupt response frame: magic %08x (something else wrote to the worker's stdout)",
              magic));
    }
    int type = in.readInt();
    switch (type) {
      case 1:
        return new Ok(WireFormat.readString(in));
      case 2:
        {
          int k = in.readInt();
          if (k < 0 || k >= FailureKind.values().length) {
            throw new ProtocolException("corrupt response frame: failure kind " + k);
          }
          String message = WireFormat.readString(in);
          return new Failure(FailureKind.values()[k], message, WireFormat.readStrings(in));
        }
      case 3:
        {
          ImmutableList<TensorInfo> inputs = WireFormat.readInfos(in);
          ImmutableList<String> outs = WireFormat.readStrings(in);
          long ms = in.readLong();
          return new Built(
              inputs, outs, ms, WireFormat.readStrings(in), WireFormat.readStrings(in));
        }
      case 4:
        {
          ImmutableMap<String, Tensor> outs = WireFormat.readTensors(in);
          return new Result(outs, in.readLong());
        }
      case 5:
        {
          boolean events = in.readBoolean();
          int n = in.readInt();
          if (n < 0 || n > 10_000_000) {
            throw new ProtocolException("corrupt response frame: " + n + " timed runs");
          }
          long[] nanos = new long[n];
          for (int i = 0; i < n; i++) {
            nanos[i] = in.readLong();
          }
          return new Timed(nanos, events);
        }
      default:
        throw new ProtocolException("corrupt response frame: unknown type " + type);
    }
  }
}
