package dev.halfbisect.trt.protocol;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Messages the parent sends to a worker. Each frame is {@code MAGIC, type, payload}; the magic
 * number catches a stray write on the stream (native code printing to stdout) as a protocol error
 * instead of a garbled tensor.
 */
public sealed interface Request {
  int MAGIC = 0x48425452; // "HBTR"

  /**
   * Checks that TensorRT, CUDA and a GPU are usable; answered by {@link Response.Ok} with a
   * description.
   */
  record Probe() implements Request {}

  /**
   * Builds an engine for session {@code sessionId}.
   *
   * @param mode fp32, tf32, fp16 (weak typing with layer constraints) or strong (kSTRONGLY_TYPED,
   *     the model is already rewritten to FP16)
   * @param fp32Nodes ONNX nodes pinned to FP32 (weak typing only)
   * @param observed ONNX tensor names marked as outputs besides the graph outputs
   * @param shapes input shapes for the optimization profile of dynamic inputs (min = opt = max)
   * @param properties build settings (timeouts do not travel; the parent enforces them)
   */
  record Build(
      int sessionId,
      String modelName,
      byte[] model,
      String mode,
      ImmutableList<String> fp32Nodes,
      ImmutableList<String> observed,
      ImmutableMap<String, long[]> shapes,
      ImmutableMap<String, String> properties)
      implements Request {
    public Build {
      Preconditions.checkNotNull(model, "model");
      fp32Nodes = ImmutableList.copyOf(fp32Nodes);
      observed = ImmutableList.copyOf(observed);
      shapes = ImmutableMap.copyOf(shapes);
      properties = ImmutableMap.copyOf(properties);
    }
  }

  /** Runs one sample on a built session. */
  record Run(int sessionId, ImmutableMap<String, Tensor> inputs) implements Request {
    public Run {
      inputs = ImmutableMap.copyOf(inputs);
    }
  }

  /**
   * Times a built session (issue 20): inputs uploaded once, {@code warmup} untimed inferences, then
   * {@code runs} timed ones; answered by {@link Response.Timed}.
   */
  record Time(int sessionId, ImmutableMap<String, Tensor> inputs, int warmup, int runs)
      implements Request {
    public Time {
      inputs = ImmutableMap.copyOf(inputs);
      Preconditions.checkArgument(warmup >= 0 && runs >= 1, "warmup >= 0 and runs >= 1");
    }
  }

  /** Drops a session's execution context (TensorRT objects stay until the worker exits). */
  record CloseSession(int sessionId) implements Request {}

  /** Asks the worker to exit after answering. */
  record Shutdown() implements Request {}

  /** Writes one frame and flushes. */
  static void write(DataOutputStream out, Request r) throws IOException {
    out.writeInt(MAGIC);
    if (r instanceof Probe) {
      out.writeInt(1);
    } else if (r instanceof Build b) {
      out.writeInt(2);
      out.writeInt(b.sessionId());
      WireFormat.writeString(out, b.modelName());
      WireFormat.writeBytes(out, b.model());
      WireFormat.writeString(out, b.mode());
      WireFormat.writeStrings(out, b.fp32Nodes());
      WireFormat.writeStrings(out, b.observed());
      WireFormat.writeShapes(out, b.shapes());
      WireFormat.writeStringMap(out, b.properties());
    } else if (r instanceof Run run) {
      out.writeInt(3);
      out.writeInt(run.sessionId());
      WireFormat.writeTensors(out, run.inputs());
    } else if (r instanceof CloseSession c) {
      out.writeInt(4);
      out.writeInt(c.sessionId());
    } else if (r instanceof Shutdown) {
      out.writeInt(5);
    } else if (r instanceof Time t) {
      out.writeInt(6);
      out.writeInt(t.sessionId());
      WireFormat.writeTensors(out, t.inputs());
      out.writeInt(t.warmup());
      out.writeInt(t.runs());
    } else {
      throw new AssertionError(r);
    }
    out.flush();
  }

  /**
   * Reads one frame.
   *
   * @throws java.io.EOFException when the stream ends before a frame starts
   * @throws ProtocolException when the bytes are not a frame
   */
  static Request read(DataInputStream in) throws IOException {
    int magic = in.readInt();
    if (magic != MAGIC) {
      throw new ProtocolException(String.format("corrupt request frame: magic %08x", magic));
    }
    int type = in.readInt();
    switch (type) {
      case 1:
        return new Probe();
      case 2:
        {
          int id = in.readInt();
          String name = WireFormat.readString(in);
          byte[] model = WireFormat.readBytes(in);
          String mode = WireFormat.readString(in);
          List<String> pins = WireFormat.readStrings(in);
          List<String> observed = WireFormat.readStrings(in);
          Map<String, long[]> shapes = WireFormat.readShapes(in);
          Map<String, String> props = WireFormat.readStringMap(in);
          return new Build(
              id,
              name,
              model,
              mode,
              ImmutableList.copyOf(pins),
              ImmutableList.copyOf(observed),
              ImmutableMap.copyOf(shapes),
              ImmutableMap.copyOf(props));
        }
      case 3:
        return new Run(in.readInt(), WireFormat.readTensors(in));
      case 4:
        return new CloseSession(in.readInt());
      case 5:
        return new Shutdown();
      case 6:
        {
          int id = in.readInt();
          ImmutableMap<String, Tensor> inputs = WireFormat.readTensors(in);
          int warmup = in.readInt();
          int runs = in.readInt();
          if (warmup < 0 || runs < 1) {
            throw new ProtocolException(
                "corrupt time request: warmup " + warmup + ", runs " + runs);
          }
          return new Time(id, inputs, warmup, runs);
        }
      default:
        throw new ProtocolException("corrupt request frame: unknown type " + type);
    }
  }
}
