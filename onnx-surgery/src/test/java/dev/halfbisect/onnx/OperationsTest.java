package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.TestModels.floats;
import static dev.halfbisect.onnx.TestModels.model;
import static dev.halfbisect.onnx.TestModels.node;
import static dev.halfbisect.onnx.TestModels.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import org.junit.jupiter.api.Test;

class OperationsTest {
  private final OnnxModel chain = OnnxModel.of(TestModels.chain(), null, "chain");

  @Test
  void markTensorsAddsTypedOutputsAndLeavesInputUntouched() {
    Onnx.ModelProto before = chain.proto();
    OnnxModel marked = MarkOutputs.tensors(chain, List.of("a", "y", "b"));
    assertThat(marked.graph().getOutputList())
        .extracting(Onnx.ValueInfoProto::getName)
        .containsExactly("y", "a", "b");
    Onnx.ValueInfoProto a = marked.graph().getOutput(1);
    assertThat(a.getType().getTensorType().getElemType()).isEqualTo(1);
    assertThat(a.getType().getTensorType().getShape().getDimList())
        .extracting(Onnx.TensorShapeProto.Dimension::getDimValue)
        .containsExactly(1L, 4L);
    assertThat(chain.proto()).isSameAs(before);
    assertThat(chain.graph().getOutputCount()).isEqualTo(1);
    assertThat(marked.index().graphOutputs()).containsExactly("y", "a", "b");
  }

  @Test
  void markUnknownNameListsCloseNames() {
    assertThatThrownBy(() -> MarkOutputs.tensors(chain, List.of("yy")))
        .isInstanceOfSatisfying(
            UnknownNameException.class,
            e -> {
              assertThat(e.unknownName()).isEqualTo("yy");
              assertThat(e.closeNames()).hasSizeLessThanOrEqualTo(5).contains("y");
            })
        .hasMessageContaining("'yy'");
    assertThatThrownBy(() -> MarkOutputs.tensors(chain, List.of("w")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initializer");
  }

  @Test
  void markAllFloatHonoursOpFilter() {
    OnnxModel all = MarkOutputs.allFloat(chain);
    assertThat(all.index().graphOutputs()).containsExactly("y", "a", "b", "d");
    OnnxModel adds = MarkOutputs.allFloat(chain, op -> op.equals("Add"));
    assertThat(adds.index().graphOutputs()).containsExactly("y", "b");
  }

  @Test
  void extractKeepsNeededNodesAndTypesInputs() {
    OnnxModel sub = Extract.subgraph(chain, List.of("a"), List.of("b"));
    assertThat(sub.graph().getNodeList())
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("add");
    assertThat(sub.graph().getInputList())
        .extracting(Onnx.ValueInfoProto::getName)
        .containsExactly("a");
    assertThat(sub.graph().getInput(0).getType().getTensorType().getElemType()).isEqualTo(1);
    assertThat(sub.graph().getInitializerList())
        .extracting(Onnx.TensorProto::getName)
        .containsExactly("w");
    assertThat(sub.graph().getOutputList())
        .extracting(Onnx.ValueInfoProto::getName)
        .containsExactly("b");

    OnnxModel two = Extract.subgraph(chain, List.of("b", "x"), List.of("y"));
    assertThat(two.graph().getNodeList())
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("mul");
    assertThat(two.graph().getInitializerCount()).isZero();

    assertThatThrownBy(() -> Extract.subgraph(chain, List.of("a"), List.of("y")))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'y'")
        .hasMessageContaining("'x'");
    assertThatThrownBy(() -> Extract.subgraph(chain, List.of("aa"), List.of("y")))
        .isInstanceOf(UnknownNameException.class)
        .hasMessageContaining("a");
  }

  @Test
  void sanitizeRemovesDeadNodesAndUnusedInitializersAndSorts() {
    Onnx.GraphProto shuffled =
        chain.graph().toBuilder()
            .clearNode()
            .addNode(chain.graph().getNode(3))
            .addNode(chain.graph().getNode(2))
            .addNode(chain.graph().getNode(1))
            .addNode(chain.graph().getNode(0))
            .addValueInfo(value("d", 1, 1, 4))
            .addValueInfo(value("a", 1, 1, 4))
            .build();
    OnnxModel clean = Sanitize.apply(chain.withGraph(shuffled));
    assertThat(clean.graph().getNodeList())
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("relu", "add", "mul");
    assertThat(clean.graph().getInitializerList())
        .extracting(Onnx.TensorProto::getName)
        .containsExactly("w");
    assertThat(clean.graph().getValueInfoList())
        .extracting(Onnx.ValueInfoProto::getName)
        .containsExactly("a");
    assertThat(clean.graph().getInputList())
        .extracting(Onnx.ValueInfoProto::getName)
        .containsExactly("x");
    // Idempotent.
    assertThat(Sanitize.apply(clean).proto()).isEqualTo(clean.proto());
  }

  @Test
  void rangeReportCountsFp16TroubleWorstFirst() {
    Onnx.TensorProto half =
        Onnx.TensorProto.newBuilder()
            .setName("h")
            .setDataType(10)
            .addDims(2)
            .addInt32Data(Half.fromFloat(1f))
            .addInt32Data(Half.fromFloat(-3f))
            .build();
    Onnx.TensorProto ints =
        Onnx.TensorProto.newBuilder()
            .setName("i")
            .setDataType(7)
            .addDims(1)
            .addInt64Data(5)
            .build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 4))
            .addInitializer(floats("tiny", new long[] {4}, 1e-5f, 1e-9f, 0f, 1f))
            .addInitializer(floats("big", new long[] {3}, 70000f, -1e6f, 2f))
            .addInitializer(floats("fine", new long[] {2}, 0.5f, -8f))
            .addInitializer(half)
            .addInitializer(ints)
            .addNode(node("Add", "a", List.of("x", "fine"), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build();
    InitializerRangeReport r = InitializerRangeReport.of(OnnxModel.of(model(g, 13), null, "r"));
    assertThat(r.rows())
        .extracting(InitializerRangeReport.Row::name)
        .containsExactly("big", "tiny", "fine", "h");
    InitializerRangeReport.Row big = r.rows().get(0);
    assertThat(big.countAboveFp16Max()).isEqualTo(2);
    assertThat(big.maxAbs()).isEqualTo(1e6);
    assertThat(big.elementCount()).isEqualTo(3);
    InitializerRangeReport.Row tiny = r.rows().get(1);
    assertThat(tiny.countBelowFp16MinNormal()).isEqualTo(2);
    assertThat(tiny.countBelowFp16MinSubnormal()).isEqualTo(1);
    assertThat(tiny.dtype()).isEqualTo(DType.FLOAT32);
    assertThat(r.rows().get(3).maxAbs()).isEqualTo(3.0);
    assertThat(r.risky())
        .extracting(InitializerRangeReport.Row::name)
        .containsExactly("big", "tiny");
    assertThat(r.format(10)).contains("big").contains("tiny");
  }

  @Test
  void tensorDataReadsEveryStorageAndRoundTrips() {
    Onnx.TensorProto f =
        Onnx.TensorProto.newBuilder()
            .setName("f")
            .setDataType(1)
            .addDims(2)
            .addDims(2)
            .addFloatData(1f)
            .addFloatData(-2f)
            .addFloatData(3.5f)
            .addFloatData(0f)
            .build();
    Tensor tf = TensorData.toTensor(f, null);
    assertThat(tf.shape()).containsExactly(2, 2);
    assertThat(tf.toFloatArray()).containsExactly(1f, -2f, 3.5f, 0f);
    assertThat(TensorData.toTensor(TensorData.fromTensor("f", tf), null)).isEqualTo(tf);

    Onnx.TensorProto h =
        Onnx.TensorProto.newBuilder()
            .setName("h")
            .setDataType(10)
            .addDims(2)
            .addInt32Data(Half.fromFloat(0.5f) & 0xffff)
            .addInt32Data(Half.fromFloat(-65504f) & 0xffff)
            .build();
    assertThat(TensorData.toTensor(h, null).toFloatArray()).containsExactly(0.5f, -65504f);
    Onnx.TensorProto b =
        Onnx.TensorProto.newBuilder()
            .setName("b")
            .setDataType(9)
            .addDims(3)
            .addInt32Data(1)
            .addInt32Data(0)
            .addInt32Data(1)
            .build();
    assertThat(TensorData.toTensor(b, null).toLongArray()).containsExactly(1, 0, 1);
    Onnx.TensorProto i8 =
        Onnx.TensorProto.newBuilder()
            .setName("i8")
            .setDataType(3)
            .addDims(2)
            .addInt32Data(-5)
            .addInt32Data(7)
            .build();
    assertThat(TensorData.toTensor(i8, null).toFloatArray()).containsExactly(-5f, 7f);
    Onnx.TensorProto l =
        Onnx.TensorProto.newBuilder().setName("l").setDataType(7).addInt64Data(1L << 40).build();
    Tensor tl = TensorData.toTensor(l, null);
    assertThat(tl.rank()).isZero();
    assertThat(tl.toLongArray()).containsExactly(1L << 40);
    Onnx.TensorProto d =
        Onnx.TensorProto.newBuilder()
            .setName("d")
            .setDataType(11)
            .addDims(1)
            .addDoubleData(0.1)
            .build();
    assertThat(TensorData.toTensor(d, null).bytes().getDouble(0)).isCloseTo(0.1, within(0.0));
    Onnx.TensorProto s =
        Onnx.TensorProto.newBuilder()
            .setName("s")
            .setDataType(8)
            .addDims(1)
            .addStringData(com.google.protobuf.ByteString.copyFromUtf8("x"))
            .build();
    assertThatThrownBy(() -> TensorData.toTensor(s, null))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'s'")
        .hasMessageContaining("STRING");
    Onnx.TensorProto shortRaw = floats("short", new long[] {3}, 1f, 2f);
    assertThatThrownBy(() -> TensorData.toTensor(shortRaw, null))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'short'");
    Tensor bf = Tensor.fromFloats(DType.BFLOAT16, new long[] {2}, new float[] {1f, -0.5f});
    Onnx.TensorProto bfp = TensorData.fromTensor("bf", bf);
    assertThat(bfp.getDataType()).isEqualTo(16);
    assertThat(TensorData.toTensor(bfp, null).toFloatArray()).containsExactly(1f, -0.5f);
  }
}
