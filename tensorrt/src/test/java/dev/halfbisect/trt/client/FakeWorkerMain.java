package dev.halfbisect.trt.client;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;

/**
 * A stand-in worker for crash-handling tests, spawned by WorkerClient like the real one. Behaviour
 * is chosen by the model name of a build: {@code crash} exits with code 3, {@code hang} never
 * answers, {@code garbage} writes text on stdout; anything else is built, and runs echo the inputs.
 * With {@code HB_FAKE_REPORT_DEVICE} set, a build's warnings name its {@code CUDA_VISIBLE_DEVICES};
 * with {@code HB_FAKE_REPORT_PROPERTIES} set, they list the request's build properties.
 */
public final class FakeWorkerMain {
  private FakeWorkerMain() {}

  /** "fake warning", plus for strong builds the count of FP16 initializers the worker received. */
  private static ImmutableList<String> warnings(Request.Build b) throws IOException {
    String device =
        System.getenv("HB_FAKE_REPORT_DEVICE") != null
            ? System.getenv("CUDA_VISIBLE_DEVICES")
            : null;
    if (device != null) {
      return ImmutableList.of("fake warning", "device " + device);
    }
    if (System.getenv("HB_FAKE_REPORT_PROPERTIES") != null) {
      return ImmutableList.of(
          "fake warning", "properties " + new java.util.TreeMap<>(b.properties()));
    }
    if (!b.mode().equals("strong")) {
      return ImmutableList.of("fake warning");
    }
    long fp16 =
        dev.halfbisect.onnx.proto.Onnx.ModelProto.parseFrom(b.model())
            .getGraph()
            .getInitializerList()
            .stream()
            .filter(t -> t.getDataType() == DType.FLOAT16.onnxCode())
            .count();
    long bf16 =
        dev.halfbisect.onnx.proto.Onnx.ModelProto.parseFrom(b.model())
            .getGraph()
            .getInitializerList()
            .stream()
            .filter(t -> t.getDataType() == DType.BFLOAT16.onnxCode())
            .count();
    return ImmutableList.of(
        "fake warning",
        "mode strong, fp16 initializers=" + fp16,
        "bf16 initializers " + bf16 + ", pins " + b.fp32Nodes().size());
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    DataOutputStream out = new DataOutputStream(new FileOutputStream(FileDescriptor.out));
    DataInputStream in = new DataInputStream(System.in);
    long pid = ProcessHandle.current().pid();
    while (true) {
      Request r;
      try {
        r = Request.read(in);
      } catch (EOFException e) {
        return;
      }
      if (r instanceof Request.Probe) {
        Response.write(out, new Response.Ok("fake worker pid " + pid));
      } else if (r instanceof Request.Build b) {
        switch (b.modelName()) {
          case "crash":
            System.err.println("E fake worker: simulated segfault while building");
            System.exit(3);
            break;
          case "hang":
            Thread.sleep(Long.MAX_VALUE);
            break;
          case "sigterm":
            // as Ctrl-C or `timeout` would: the signal goes to the worker too (same process group)
            new ProcessBuilder("kill", "-TERM", Long.toString(pid)).start().waitFor();
            Thread.sleep(Long.MAX_VALUE);
            break;
          case "garbage":
            out.write(
                "[TRT] stray native print\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            break;
          default:
            Response.write(
                out,
                new Response.Built(
                    ImmutableList.of(new TensorInfo("x", DType.FLOAT32, b.shapes().get("x"))),
                    ImmutableList.of("y"),
                    5,
                    warnings(b),
                    ImmutableList.of()));
        }
      } else if (r instanceof Request.Run run) {
        Response.write(
            out,
            new Response.Result(
                com.google.common.collect.ImmutableMap.of("y", run.inputs().get("x")), 1));
      } else if (r instanceof Request.Time t) {
        long[] nanos = new long[t.runs()];
        for (int i = 0; i < nanos.length; i++) {
          nanos[i] = 1_000_000L * (i + 1); // 1, 2, ... ms: the median is known
        }
        Response.write(out, new Response.Timed(nanos, true));
      } else if (r instanceof Request.CloseSession) {
        Response.write(out, new Response.Ok("closed"));
      } else if (r instanceof Request.Shutdown) {
        Response.write(out, new Response.Ok("bye"));
        return;
      }
    }
  }
}
