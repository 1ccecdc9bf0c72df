package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.Backend;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BackendSpec;
import dev.halfbisect.core.backend.Backends;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OrtBackendSpiTest {
  private static final long[] S = {2, 3};
  private final OrtBackend backend = new OrtBackend();

  @Test
  void serviceLoaderFindsOrt() {
    Backend b = Backends.get("ort");
    assertThat(b).isInstanceOf(OrtBackend.class);
    assertThat(b.modes())
        .containsExactly(
            "fp32",
            "fp16-emulated",
            "fp16-acc16-emulated",
            "bf16-emulated",
            "fp16-strong-emulated",
            "fp16-strong-acc16-emulated",
            "bf16-strong-emulated");
    assertThat(b.referenceMode()).isEqualTo("fp32");
    assertThat(b.candidateMode()).isEqualTo("fp16-emulated");
    assertThat(b.availability().available()).as(b.availability().reason()).isTrue();
    assertThat(Backends.resolve(BackendSpec.parse("ort:fp16-emulated")))
        .isInstanceOf(OrtBackend.class);
  }

  @Test
  void unknownBackendAndModeAreNamed() {
    assertThatThrownBy(() -> Backends.get("onnx"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'onnx'")
        .hasMessageContaining("ort");
    assertThatThrownBy(() -> Backends.resolve(BackendSpec.parse("ort:fp16")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fp32, fp16-emulated");
    assertThatThrownBy(() -> backend.open(ProtoModels.twoInputs(), BuildOptions.of("int8")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no mode 'int8'")
        .hasMessageContaining("fp32, fp16-emulated");
  }

  @Test
  void observedNamesMissingFromTheModelAreRejectedByName() {
    BuildOptions opts = BuildOptions.of("fp32").withObserved(List.of("sum", "nope", "also_nope"));
    assertThatThrownBy(() -> backend.open(ProtoModels.twoInputs(), opts))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope")
        .hasMessageContaining("also_nope")
        .hasMessageNotContaining("sum,");
  }

  @Test
  void observingAGraphInputReturnsIt() throws Exception {
    try (BackendSession s =
        backend.open(ProtoModels.twoInputs(), BuildOptions.of("fp32").withObserved(List.of("x")))) {
      assertThat(s.outputNames()).containsExactly("out", "x");
      assertThat(s.run(sample(3f)).get("x").toFloatArray()).containsOnly(3f);
    }
  }

  @Test
  void observesIntermediateTensorsAfterGraphOutputs() throws Exception {
    BuildOptions opts = BuildOptions.of("fp32").withObserved(List.of("prod", "sum", "out"));
    try (BackendSession s = backend.open(ProtoModels.twoInputs(), opts)) {
      assertThat(s.outputNames()).containsExactly("out", "prod", "sum");
      assertThat(s.buildStats().outputCount()).isEqualTo(3);
      RunResult r = s.run(sample(1.5f));
      assertThat(r.get("sum").toFloatArray()).containsOnly(3f);
      assertThat(r.get("prod").toFloatArray()).containsOnly(4.5f);
      assertThat(r.get("out").toFloatArray()).containsExactly(14.5f, 15.5f, 16.5f, 17.5f);
      assertThat(r.runTime()).isPositive();
    }
  }

  @Test
  void inputsDescribeTheModel() throws Exception {
    try (BackendSession s = backend.open(ProtoModels.twoInputs(), BuildOptions.of("fp32"))) {
      assertThat(s.inputs())
          .extracting(i -> i.describe())
          .containsExactly("ids int64 [?x4]", "x float32 [?x4]");
    }
  }

  @Test
  void missingAndExtraInputsAreNamed() throws Exception {
    try (BackendSession s = backend.open(ProtoModels.twoInputs(), BuildOptions.of("fp32"))) {
      Tensor x = Tensor.ofFloats(new long[] {1, 4}, 1, 2, 3, 4);
      assertThatThrownBy(() -> s.run(Map.of("x", x)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("missing [ids]")
          .hasMessageContaining("model inputs: ids int64 [?x4], x float32 [?x4]");
      assertThatThrownBy(() -> s.run(Map.of("x", x, "ids", ids(), "mask", x)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not inputs of the model [mask]");
    }
  }

  @Test
  void wrongDtypeAndShapeNameExpectedAndGiven() throws Exception {
    try (BackendSession s = backend.open(ProtoModels.twoInputs(), BuildOptions.of("fp32"))) {
      Tensor floatIds = Tensor.ofFloats(new long[] {1, 4}, 1, 2, 3, 4);
      assertThatThrownBy(() -> s.run(Map.of("x", floatIds, "ids", floatIds)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("input 'ids': expected int64 [?x4], got float32 [1x4]")
          .hasMessageContaining("model inputs:");
      Tensor wide = Tensor.ofFloats(new long[] {1, 5}, 1, 2, 3, 4, 5);
      assertThatThrownBy(() -> s.run(Map.of("x", wide, "ids", ids())))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("input 'x': expected float32 [?x4], got float32 [1x5]");
      Tensor flat = Tensor.ofFloats(new long[] {4}, 1, 2, 3, 4);
      assertThatThrownBy(() -> s.run(Map.of("x", flat, "ids", ids())))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("input 'x': expected float32 [?x4], got float32 [4]");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = DType.class,
      names = {
        "FLOAT32",
        "FLOAT16",
        "BFLOAT16",
        "FLOAT64",
        "INT64",
        "INT32",
        "INT8",
        "UINT8",
        "BOOL"
      })
  void everyDtypeRoundTripsThroughIdentity(DType dtype) throws Exception {
    float[] values = {0f, 1f, -2f, 3f, 100f, -7f};
    if (dtype == DType.UINT8 || dtype == DType.BOOL) {
      values = new float[] {0f, 1f, 2f, 255f, 0f, 9f};
    }
    Tensor in = Tensor.fromFloats(dtype, S, values);
    try (BackendSession s = backend.open(ProtoModels.identity(dtype, S), BuildOptions.of("fp32"))) {
      Tensor out = s.run(Map.of("x", in)).get("y");
      assertThat(out).isEqualTo(in);
      assertThat(out.dtype()).isEqualTo(dtype);
    }
  }

  @Test
  void float16OutputsKeepTheirBits() throws Exception {
    short[] bits = {
      Half.fromFloat(1.0009765625f),
      Half.fromFloat(65504f),
      (short) 0x7c00,
      (short) 0x0001,
      Half.fromFloat(-0f),
      Half.fromFloat(3.14159f)
    };
    Tensor in = Tensor.ofHalfBits(S, bits);
    try (BackendSession s =
        backend.open(ProtoModels.identity(DType.FLOAT16, S), BuildOptions.of("fp32"))) {
      assertThat(s.run(Map.of("x", in)).get("y").toHalfBits()).containsExactly(bits);
    }
  }

  @Test
  void equalOptionsReuseTheBuiltSession() throws Exception {
    ModelRef m = ProtoModels.twoInputs();
    BuildOptions opts = BuildOptions.of("fp32").withObserved(List.of("sum"));
    BackendSession first = backend.open(m, opts);
    BackendSession second = backend.open(ProtoModels.twoInputs(), opts); // same bytes, new array
    assertThat(first.buildStats().cached()).isFalse();
    assertThat(second.buildStats().cached()).isTrue();
    assertThat(second.buildStats().buildTime()).isZero();
    first.close();
    first.close(); // idempotent
    // closing one holder leaves the other working
    assertThat(second.run(sample(1f)).get("sum").toFloatArray()).containsOnly(2f);
    second.close();
    try (BackendSession other = backend.open(m, opts.withObserved(List.of("prod")));
        BackendSession again = backend.open(m, opts)) {
      assertThat(other.buildStats().cached()).isFalse();
      assertThat(again.buildStats().cached()).isTrue();
    }
  }

  @Test
  void evictedSessionsStayUsableUntilTheirViewsClose() throws Exception {
    OrtBackend small = new OrtBackend(1);
    ModelRef m = ProtoModels.twoInputs();
    try (BackendSession a = small.open(m, BuildOptions.of("fp32"))) {
      try (BackendSession b = small.open(m, BuildOptions.of("fp32").withObserved(List.of("sum")))) {
        assertThat(small.cachedSessions()).isEqualTo(1);
        assertThat(a.run(sample(2f)).get("out").toFloatArray()).containsExactly(18f, 19f, 20f, 21f);
        assertThat(b.run(sample(2f)).get("sum").toFloatArray()).containsOnly(4f);
      }
      assertThat(small.open(m, BuildOptions.of("fp32")).buildStats().cached()).isFalse();
    }
    small.clearCache();
    assertThat(small.cachedSessions()).isZero();
  }

  @Test
  void settingsPropertiesAreCheckedAndPartOfTheKey() throws Exception {
    ModelRef m = ProtoModels.twoInputs();
    assertThatThrownBy(
            () -> backend.open(m, BuildOptions.of("fp32").withProperty("ort.threads", "zero")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ort.threads");
    assertThatThrownBy(
            () -> backend.open(m, BuildOptions.of("fp32").withProperty("ort.optLevel", "max")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("none, basic, extended, layout, all");
    try (BackendSession one =
            backend.open(m, BuildOptions.of("fp32").withProperty("ort.threads", "1"));
        BackendSession all =
            backend.open(m, BuildOptions.of("fp32").withProperty("ort.optLevel", "all"))) {
      assertThat(one.buildStats().cached()).isFalse();
      assertThat(all.buildStats().cached()).isFalse();
      assertThat(all.run(sample(2f)).get("out").toFloatArray()).containsExactly(18f, 19f, 20f, 21f);
    }
  }

  @Test
  void outputsOfATypeWithoutDTypeGiveABackendExceptionNamingThem() throws Exception {
    ModelRef m =
        ProtoModels.model(
            "to_uint16",
            Onnx.GraphProto.newBuilder()
                .addInput(ProtoModels.value("x", DType.FLOAT32, 2))
                .addOutput(
                    Onnx.ValueInfoProto.newBuilder()
                        .setName("u")
                        .setType(
                            Onnx.TypeProto.newBuilder()
                                .setTensorType(
                                    Onnx.TypeProto.Tensor.newBuilder().setElemType(4)))) // uint16
                .addNode(
                    Onnx.NodeProto.newBuilder()
                        .setOpType("Cast")
                        .setName("c")
                        .addInput("x")
                        .addOutput("u")
                        .addAttribute(
                            Onnx.AttributeProto.newBuilder()
                                .setName("to")
                                .setType(Onnx.AttributeProto.AttributeType.INT)
                                .setI(4)))
                .build());
    try (BackendSession s = backend.open(m, BuildOptions.of("fp32"))) {
      assertThatThrownBy(() -> s.run(Map.of("x", Tensor.ofFloats(new long[] {2}, 1f, 2f))))
          .isInstanceOf(BackendException.class)
          .hasMessageContaining("output 'u'")
          .hasMessageContaining("UINT16");
    }
  }

  @Test
  void viewsOfOneSharedSessionRunFromSeveralThreads() throws Exception {
    ModelRef m = ProtoModels.twoInputs();
    BuildOptions opts = BuildOptions.of("fp32").withObserved(List.of("prod"));
    try (BackendSession a = backend.open(m, opts);
        BackendSession b = backend.open(m, opts)) {
      assertThat(b.buildStats().cached()).isTrue();
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(2);
      try {
        List<java.util.concurrent.Future<Float>> results = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
          BackendSession s = i % 2 == 0 ? a : b;
          float x = i;
          results.add(pool.submit(() -> s.run(sample(x)).get("prod").toFloatArray()[0]));
        }
        for (int i = 0; i < 40; i++) {
          assertThat(results.get(i).get()).isEqualTo(2f * i * i);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void invalidModelBytesGiveABackendExceptionNamingTheModel() {
    ModelRef junk = ModelRef.ofBytes("junk.onnx", new byte[] {1, 2, 3, 4, 5}, null);
    assertThatThrownBy(() -> backend.open(junk, BuildOptions.of("fp32")))
        .isInstanceOf(BackendException.class)
        .hasMessageContaining("junk.onnx");
  }

  private static Tensor ids() {
    return Tensor.ofLongs(new long[] {1, 4}, 10, 11, 12, 13);
  }

  private static Map<String, Tensor> sample(float x) {
    return Map.of("ids", ids(), "x", Tensor.ofFloats(new long[] {1, 4}, x, x, x, x));
  }
}
