package dev.halfbisect.trt.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TensorInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProtocolRoundTripTest {
  private static Request roundTrip(Request r) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Request.write(new DataOutputStream(bytes), r);
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    Request back = Request.read(in);
    assertThat(in.available()).isZero();
    return back;
  }

  private static Response roundTrip(Response r) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Response.write(new DataOutputStream(bytes), r);
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    Response back = Response.read(in);
    assertThat(in.available()).isZero();
    return back;
  }

  /** One tensor of every dtype, with values that show byte order and sign. */
  static Map<String, Tensor> everyDtype() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    long[] s = {2, 2};
    m.put("f32", Tensor.ofFloats(s, 1.5f, -2f, Float.NaN, 1e30f));
    m.put("f16", Tensor.fromFloats(DType.FLOAT16, s, new float[] {1.5f, -2f, 65504f, 6e-8f}));
    m.put("bf16", Tensor.fromFloats(DType.BFLOAT16, s, new float[] {1.5f, -2f, 3f, 4f}));
    m.put("f64", Tensor.ofDoubles(s, 1.5, -2, 3, 4));
    m.put("i64", Tensor.ofLongs(s, 1L << 40, -1, 0, 7));
    m.put("i32", Tensor.ofInts(s, Integer.MIN_VALUE, -1, 0, 7));
    m.put("i8", Tensor.ofBytes(DType.INT8, s, (byte) -128, (byte) -1, (byte) 0, (byte) 7));
    m.put("u8", Tensor.ofBytes(DType.UINT8, s, (byte) 255, (byte) 1, (byte) 0, (byte) 7));
    m.put("bool", Tensor.ofBooleans(s, true, false, false, true));
    m.put("scalar", Tensor.ofFloats(new long[0], 3f));
    m.put("empty", Tensor.ofFloats(new long[] {0, 3}));
    return m;
  }

  @Test
  void everyDtypeEnumIsCovered() {
    assertThat(everyDtype().values())
        .extracting(Tensor::dtype)
        .containsAll(java.util.List.of(DType.values()));
  }

  @Test
  void requestsRoundTrip() throws IOException {
    assertThat(roundTrip(new Request.Probe())).isInstanceOf(Request.Probe.class);
    assertThat(roundTrip(new Request.Shutdown())).isInstanceOf(Request.Shutdown.class);
    assertThat(roundTrip(new Request.CloseSession(42))).isEqualTo(new Request.CloseSession(42));

    Request.Build b =
        new Request.Build(
            7,
            "model ü.onnx",
            new byte[] {1, 2, 3, 0, -1},
            "fp16",
            ImmutableList.of("ln_pow", "ln_div"),
            ImmutableList.of("d2", "var"),
            ImmutableMap.of("x", new long[] {1, 128, 64}, "mask", new long[] {1, 128}),
            ImmutableMap.of("halfbisect.trt.workspaceMiB", "512"));
    Request.Build back = (Request.Build) roundTrip(b);
    assertThat(back.sessionId()).isEqualTo(7);
    assertThat(back.modelName()).isEqualTo("model ü.onnx");
    assertThat(back.model()).containsExactly(1, 2, 3, 0, -1);
    assertThat(back.mode()).isEqualTo("fp16");
    assertThat(back.fp32Nodes()).containsExactly("ln_pow", "ln_div");
    assertThat(back.observed()).containsExactly("d2", "var");
    assertThat(back.shapes().keySet()).containsExactly("x", "mask");
    assertThat(back.shapes().get("x")).containsExactly(1, 128, 64);
    assertThat(back.properties()).containsEntry("halfbisect.trt.workspaceMiB", "512");

    Request.Run run =
        (Request.Run) roundTrip(new Request.Run(3, ImmutableMap.copyOf(everyDtype())));
    assertThat(run.sessionId()).isEqualTo(3);
    assertThat(run.inputs()).isEqualTo(everyDtype());
    assertThat(run.inputs().keySet()).containsExactlyElementsOf(everyDtype().keySet());
  }

  @Test
  void responsesRoundTrip() throws IOException {
    assertThat(roundTrip(new Response.Ok("TensorRT 10.6.0 on H100")))
        .isEqualTo(new Response.Ok("TensorRT 10.6.0 on H100"));
    for (Response.FailureKind k : Response.FailureKind.values()) {
      assertThat(roundTrip(new Response.Failure(k, "why " + k)))
          .isEqualTo(new Response.Failure(k, "why " + k));
    }
    Response.Failure folded =
        new Response.Failure(
            Response.FailureKind.UNOBSERVABLE,
            "constant-folded",
            ImmutableList.of("/Constant_output_0", "/Constant_1_output_0"));
    assertThat(roundTrip(folded)).isEqualTo(folded);

    Response.Built built =
        new Response.Built(
            ImmutableList.of(
                new TensorInfo("x", DType.FLOAT32, new long[] {-1, 128}),
                new TensorInfo("ids", DType.INT64, new long[] {1})),
            ImmutableList.of("y", "d2"),
            1234,
            ImmutableList.of("w1"),
            ImmutableList.of("ln_pow\tFP32\tln_pow"));
    assertThat(roundTrip(built)).isEqualTo(built);
    Response.Result res =
        (Response.Result) roundTrip(new Response.Result(ImmutableMap.copyOf(everyDtype()), 99));
    assertThat(res.outputs()).isEqualTo(everyDtype());
    assertThat(res.runNanos()).isEqualTo(99);
  }

  @Test
  void timedRunsRoundTrip() throws IOException { // issue 20
    Tensor x = Tensor.ofFloats(new long[] {2}, new float[] {1f, -2f});
    Request.Time t = (Request.Time) roundTrip(new Request.Time(7, ImmutableMap.of("x", x), 3, 11));
    assertThat(t.sessionId()).isEqualTo(7);
    assertThat(t.warmup()).isEqualTo(3);
    assertThat(t.runs()).isEqualTo(11);
    assertThat(t.inputs().get("x")).isEqualTo(x);
    Response.Timed back =
        (Response.Timed) roundTrip(new Response.Timed(new long[] {5L, 9_000_000_000L}, true));
    assertThat(back.nanos()).containsExactly(5L, 9_000_000_000L);
    assertThat(back.gpuEvents()).isTrue();
    assertThat(roundTrip(new Response.Timed(new long[] {1L}, false)))
        .isEqualTo(new Response.Timed(new long[] {1L}, false));
  }

  @Test
  void aStrayWriteIsAProtocolErrorAndEndOfStreamIsEof() {
    byte[] garbage =
        "hello from native code\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> Response.read(new DataInputStream(new ByteArrayInputStream(garbage))))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("stdout");
    assertThatThrownBy(
            () -> Request.read(new DataInputStream(new ByteArrayInputStream(new byte[0]))))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void aJvmFatalErrorReportOnStdoutIsNamedAsTheWorkersCrash() {
    // the first bytes HotSpot wrote to stdout when a worker died in libnvinfer on the H200
    byte[] report =
        "#\n# A fatal error has been detected by the Java Runtime Environment:\n"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> Response.read(new DataInputStream(new ByteArrayInputStream(report))))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("the worker's JVM crashed")
        .hasMessageContaining("hs_err_worker_pid");
  }
}
