package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.TestModels.floats;
import static dev.halfbisect.onnx.TestModels.graphAttr;
import static dev.halfbisect.onnx.TestModels.intAttr;
import static dev.halfbisect.onnx.TestModels.model;
import static dev.halfbisect.onnx.TestModels.node;
import static dev.halfbisect.onnx.TestModels.tensorAttr;
import static dev.halfbisect.onnx.TestModels.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.DType;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphIndexTest {
  private static OnnxModel of(Onnx.GraphProto g) {
    return OnnxModel.of(model(g, 17), null, "test.onnx");
  }

  @Test
  void indexesProducersConsumersInputsAndOutputs() {
    GraphIndex i = OnnxModel.of(TestModels.chain(), null, "chain").index();
    assertThat(i.nodes())
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("relu", "add", "dead", "mul");
    assertThat(i.producer("b").orElseThrow().getName()).isEqualTo("add");
    assertThat(i.producer("x")).isEmpty();
    assertThat(i.consumers("b")).extracting(Onnx.NodeProto::getName).containsExactly("dead", "mul");
    assertThat(i.consumers("x")).extracting(Onnx.NodeProto::getName).containsExactly("relu", "mul");
    assertThat(i.isInitializer("w")).isTrue();
    assertThat(i.graphInputs()).containsExactly("x");
    assertThat(i.graphOutputs()).containsExactly("y");
    assertThat(i.hasValue("d")).isTrue();
    assertThat(i.hasValue("nope")).isFalse();
    assertThat(i.elementType("b")).contains(DType.FLOAT32);
    assertThat(i.shape("b")).hasValueSatisfying(s -> assertThat(s).containsExactly(1, 4));
    assertThat(i.floatTensors()).containsExactly("a", "b", "d", "y");
    assertThatThrownBy(() -> i.node("ad"))
        .isInstanceOf(UnknownNameException.class)
        .hasMessageContaining("add");
  }

  @Test
  void sortsStablyAndLeavesSortedGraphsInFileOrder() {
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addNode(node("Add", "late", List.of("p", "q"), List.of("r")))
            .addNode(node("Neg", "q1", List.of("x"), List.of("q")))
            .addNode(node("Abs", "p1", List.of("x"), List.of("p")))
            .addNode(node("Relu", "side", List.of("x"), List.of("s")))
            .addOutput(value("r", 1, 2))
            .build();
    GraphIndex i = of(g).index();
    assertThat(i.nodes())
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("q1", "p1", "late", "side");
    assertThat(i.topoPosition("late")).isEqualTo(2);
  }

  @Test
  void cycleIsReportedWithItsNodes() {
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addNode(node("Relu", "entry", List.of("x"), List.of("e")))
            .addNode(node("Add", "n1", List.of("e", "c"), List.of("a")))
            .addNode(node("Neg", "n2", List.of("a"), List.of("b")))
            .addNode(node("Abs", "n3", List.of("b"), List.of("c")))
            .addOutput(value("c", 1, 2))
            .build();
    assertThatThrownBy(() -> of(g).index())
        .isInstanceOf(GraphCycleException.class)
        .hasMessageContaining("n1")
        .hasMessageContaining("n2")
        .hasMessageContaining("n3")
        .hasMessageNotContaining("entry");
  }

  @Test
  void danglingInputNamesNodeAndTensorButOptionalEmptyInputIsFine() {
    Onnx.GraphProto dangling =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addNode(node("Add", "adder", List.of("x", "ghost"), List.of("y")))
            .addOutput(value("y", 1, 2))
            .build();
    assertThatThrownBy(() -> of(dangling).index())
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("adder")
        .hasMessageContaining("ghost");
    Onnx.GraphProto optional =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addNode(node("Clip", "clip", List.of("x", "", ""), List.of("y")))
            .addOutput(value("y", 1, 2))
            .build();
    assertThat(of(optional).index().nodeInputs(of(optional).index().node("clip")))
        .containsExactly("x");
  }

  @Test
  void duplicateValueNamesNameBothNodes() {
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addNode(node("Relu", "first", List.of("x"), List.of("v")))
            .addNode(node("Neg", "second", List.of("x"), List.of("v")))
            .addOutput(value("v", 1, 2))
            .build();
    assertThatThrownBy(() -> of(g).index())
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'v'")
        .hasMessageContaining("first")
        .hasMessageContaining("second");
  }

  @Test
  void unknownElementTypesNameTheTensor() {
    Onnx.GraphProto badInput =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 77, 2))
            .addNode(node("Relu", "r", List.of("x"), List.of("y")))
            .addOutput(value("y", 1, 2))
            .build();
    assertThatThrownBy(() -> of(badInput).index())
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'x'")
        .hasMessageContaining("77");
    Onnx.GraphProto badCast =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addNode(node("Cast", "c", List.of("x"), List.of("y"), intAttr("to", 99)))
            .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y"))
            .build();
    assertThatThrownBy(() -> of(badCast).index())
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'y'")
        .hasMessageContaining("99");
    Onnx.TensorProto badInit =
        floats("w", new long[] {2}, 1f, 2f).toBuilder().setDataType(300).build();
    Onnx.GraphProto g3 =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addInitializer(badInit)
            .addNode(node("Add", "a", List.of("x", "w"), List.of("y")))
            .addOutput(value("y", 1, 2))
            .build();
    assertThatThrownBy(() -> of(g3).index())
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("300");
  }

  @Test
  void infersElementTypesFromOpRules() {
    Onnx.TensorProto shapeVal =
        Onnx.TensorProto.newBuilder()
            .setDataType(7)
            .addDims(2)
            .addInt64Data(1)
            .addInt64Data(8)
            .build();
    Onnx.TensorProto fill =
        Onnx.TensorProto.newBuilder().setDataType(10).addDims(1).addInt32Data(0).build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 1, 8))
            .addInput(value("ids", 7, 1, 8))
            .addNode(
                node("Constant", "k", List.of(), List.of("shape"), tensorAttr("value", shapeVal)))
            .addNode(node("Cast", "to16", List.of("x"), List.of("h"), intAttr("to", 10)))
            .addNode(node("Shape", "shp", List.of("x"), List.of("s")))
            .addNode(node("Less", "lt", List.of("x", "x"), List.of("m")))
            .addNode(node("Not", "not", List.of("m"), List.of("nm")))
            .addNode(node("Where", "where", List.of("m", "h", "h"), List.of("wh")))
            .addNode(node("TopK", "topk", List.of("x", "s"), List.of("tv", "ti")))
            .addNode(node("Dropout", "drop", List.of("x"), List.of("dv", "dm")))
            .addNode(node("Gather", "gather", List.of("h", "ids"), List.of("g")))
            .addNode(
                node(
                    "ConstantOfShape",
                    "cos",
                    List.of("shape"),
                    List.of("c16"),
                    tensorAttr("value", fill)))
            .addNode(node("ConstantOfShape", "cosf", List.of("shape"), List.of("cf")))
            .addNode(node("CastLike", "cl", List.of("ids", "h"), List.of("idsh")))
            .addNode(node("ArgMax", "am", List.of("x"), List.of("amax")))
            .addNode(node("DequantizeLinear", "dq", List.of("ids", "x"), List.of("deq")))
            .addNode(node("Softmax", "sm", List.of("x"), List.of("soft")))
            .addNode(node("Add", "add", List.of("x", "soft"), List.of("sum")))
            .addNode(
                node("RandomUniformLike", "rnd", List.of("x"), List.of("r"), intAttr("dtype", 11)))
            .addNode(node("Range", "range", List.of("ids", "ids", "ids"), List.of("rg")))
            .addNode(node("MyOp", "custom", List.of("h"), List.of("cu")))
            .addOutput(value("sum", 1, 1, 8))
            .build();
    GraphIndex i = of(g).index();
    assertThat(i.elementType("shape")).contains(DType.INT64);
    assertThat(i.shape("shape")).hasValueSatisfying(s -> assertThat(s).containsExactly(2));
    assertThat(i.elementType("h")).contains(DType.FLOAT16);
    assertThat(i.shape("h")).hasValueSatisfying(s -> assertThat(s).containsExactly(1, 8));
    assertThat(i.elementType("s")).contains(DType.INT64);
    assertThat(i.elementType("m")).contains(DType.BOOL);
    assertThat(i.elementType("nm")).contains(DType.BOOL);
    assertThat(i.elementType("wh")).contains(DType.FLOAT16);
    assertThat(i.elementType("tv")).contains(DType.FLOAT32);
    assertThat(i.elementType("ti")).contains(DType.INT64);
    assertThat(i.elementType("dv")).contains(DType.FLOAT32);
    assertThat(i.elementType("dm")).contains(DType.BOOL);
    assertThat(i.elementType("g")).contains(DType.FLOAT16);
    assertThat(i.elementType("c16")).contains(DType.FLOAT16);
    assertThat(i.elementType("cf")).contains(DType.FLOAT32);
    assertThat(i.elementType("idsh")).contains(DType.FLOAT16);
    assertThat(i.elementType("amax")).contains(DType.INT64);
    assertThat(i.elementType("deq")).contains(DType.FLOAT32);
    assertThat(i.elementType("soft")).contains(DType.FLOAT32);
    assertThat(i.shape("sum")).hasValueSatisfying(s -> assertThat(s).containsExactly(1, 8));
    assertThat(i.elementType("r")).contains(DType.FLOAT64);
    assertThat(i.elementType("rg")).contains(DType.INT64);
    assertThat(i.elementType("cu")).contains(DType.FLOAT16);
    assertThat(i.floatTensors())
        .contains("h", "wh", "tv", "soft", "r")
        .doesNotContain("s", "m", "ti", "shape");
    assertThat(i.valueInfo("wh").getType().getTensorType().getElemType()).isEqualTo(10);
  }

  @Test
  void controlFlowOuterReferencesAreNodeInputs() {
    Onnx.GraphProto thenBranch =
        Onnx.GraphProto.newBuilder()
            .setName("then")
            .addNode(node("Add", "t_add", List.of("outer_a", "outer_b"), List.of("t_out")))
            .addOutput(value("t_out", 1, 2))
            .build();
    Onnx.GraphProto elseBranch =
        Onnx.GraphProto.newBuilder()
            .setName("else")
            .addNode(node("Identity", "e_id", List.of("outer_a"), List.of("e_out")))
            .addOutput(value("e_out", 1, 2))
            .build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addInput(value("cond", 9))
            .addNode(
                node(
                    "If",
                    "branch",
                    List.of("cond"),
                    List.of("res"),
                    graphAttr("then_branch", thenBranch),
                    graphAttr("else_branch", elseBranch)))
            .addNode(node("Relu", "ra", List.of("x"), List.of("outer_a")))
            .addNode(node("Neg", "rb", List.of("x"), List.of("outer_b")))
            .addOutput(value("res", 1, 2))
            .build();
    GraphIndex i = of(g).index();
    assertThat(i.nodeInputs(i.node("branch"))).containsExactly("cond", "outer_a", "outer_b");
    assertThat(i.nodes()).extracting(Onnx.NodeProto::getName).containsExactly("ra", "rb", "branch");
    assertThat(i.consumers("outer_b"))
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("branch");
    assertThat(i.elementType("res")).contains(DType.FLOAT32);
    // Extract keeps the producers of outer references.
    OnnxModel sub = Extract.subgraph(of(g), List.of("x", "cond"), List.of("res"));
    assertThat(sub.graph().getNodeList())
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("ra", "rb", "branch");
  }

  @Test
  void infersShapesForTransformerOps() {
    Onnx.TensorProto target =
        Onnx.TensorProto.newBuilder()
            .setName("target")
            .setDataType(7)
            .addDims(4)
            .addInt64Data(0)
            .addInt64Data(0)
            .addInt64Data(12)
            .addInt64Data(-1)
            .build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, -1, 16, 384))
            .addInput(value("ids", 7, 2, 16))
            .addInitializer(floats("w", new long[] {384, 1536}, new float[384 * 1536]))
            .addInitializer(floats("emb", new long[] {100, 384}, new float[100 * 384]))
            .addInitializer(target)
            .addNode(node("MatMul", "mm", List.of("x", "w"), List.of("h")))
            .addNode(node("Reshape", "rs", List.of("x", "target"), List.of("heads")))
            .addNode(
                node(
                    "Transpose",
                    "tr",
                    List.of("heads"),
                    List.of("t"),
                    Onnx.AttributeProto.newBuilder()
                        .setName("perm")
                        .addAllInts(List.of(0L, 2L, 1L, 3L))
                        .build()))
            .addNode(
                node(
                    "ReduceMean",
                    "rm",
                    List.of("x"),
                    List.of("mean"),
                    Onnx.AttributeProto.newBuilder().setName("axes").addInts(-1).build()))
            .addNode(node("Gather", "g", List.of("emb", "ids"), List.of("e")))
            .addNode(
                node(
                    "Unsqueeze",
                    "u",
                    List.of("e"),
                    List.of("ue"),
                    Onnx.AttributeProto.newBuilder().setName("axes").addInts(1).build()))
            .addNode(node("Shape", "s", List.of("x"), List.of("shape")))
            .addOutput(value("h", 1, -1, 16, 1536))
            .build();
    GraphIndex i = OnnxModel.of(model(g, 11), null, "shapes").index();
    assertThat(i.shape("h")).hasValueSatisfying(s -> assertThat(s).containsExactly(-1, 16, 1536));
    assertThat(i.shape("heads"))
        .hasValueSatisfying(s -> assertThat(s).containsExactly(-1, 16, 12, -1));
    assertThat(i.shape("t")).hasValueSatisfying(s -> assertThat(s).containsExactly(-1, 12, 16, -1));
    assertThat(i.shape("mean")).hasValueSatisfying(s -> assertThat(s).containsExactly(-1, 16, 1));
    assertThat(i.shape("e")).hasValueSatisfying(s -> assertThat(s).containsExactly(2, 16, 384));
    assertThat(i.shape("ue")).hasValueSatisfying(s -> assertThat(s).containsExactly(2, 1, 16, 384));
    assertThat(i.shape("shape")).hasValueSatisfying(s -> assertThat(s).containsExactly(3));
    Onnx.ValueInfoProto vi = i.valueInfo("t");
    assertThat(vi.getType().getTensorType().getShape().getDimList())
        .extracting(d -> d.hasDimValue() ? d.getDimValue() : -1L)
        .containsExactly(-1L, 12L, 16L, -1L);
  }
}
