package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.TestModels.graphAttr;
import static dev.halfbisect.onnx.TestModels.model;
import static dev.halfbisect.onnx.TestModels.node;
import static dev.halfbisect.onnx.TestModels.tensorAttr;
import static dev.halfbisect.onnx.TestModels.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * External data outside the main initializers (a Constant's value, a subgraph's initializer) is
 * checked by the same rules at load and embedded on save (issue 16).
 */
class ExternalDataEverywhereTest {
  @TempDir Path dir;

  static Onnx.TensorProto external(String name, String location, long bytes) {
    return Onnx.TensorProto.newBuilder()
        .setName(name)
        .setDataType(1)
        .addDims(bytes / 4)
        .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
        .addExternalData(
            Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue(location))
        .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("offset").setValue("0"))
        .addExternalData(
            Onnx.StringStringEntryProto.newBuilder()
                .setKey("length")
                .setValue(Long.toString(bytes)))
        .build();
  }

  /** x[4] + Constant(value = {@code value}) -> y. */
  static Onnx.ModelProto constantModel(Onnx.TensorProto value) {
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 4))
            .addNode(node("Constant", "c", List.of(), List.of("k"), tensorAttr("value", value)))
            .addNode(node("Add", "add", List.of("x", "k"), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build();
    return model(g, 13);
  }

  /** An If whose then-branch holds {@code init} as its own initializer. */
  static Onnx.ModelProto subgraphModel(Onnx.TensorProto init) {
    Onnx.GraphProto branch =
        Onnx.GraphProto.newBuilder()
            .addInitializer(init)
            .addNode(node("Identity", "id", List.of(init.getName()), List.of("b")))
            .addOutput(value("b", 1, 4))
            .build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("cond", 9))
            .addNode(
                node(
                    "If",
                    "if",
                    List.of("cond"),
                    List.of("y"),
                    graphAttr("then_branch", branch),
                    graphAttr("else_branch", branch)))
            .addOutput(value("y", 1, 4))
            .build();
    return model(g, 13);
  }

  @Test
  void hostileConstantAndSubgraphReferencesAreRejectedAtLoadNamingTheTensor() throws IOException {
    Path modelDir = Files.createDirectories(dir.resolve("m"));
    Files.write(dir.resolve("secret"), new byte[16]);
    String abs = dir.resolve("secret").toString();
    for (Onnx.ModelProto m :
        List.of(
            constantModel(external("kc", "../secret", 16)),
            constantModel(external("kc", abs, 16)),
            subgraphModel(external("kc", "../secret", 16)),
            subgraphModel(external("kc", abs, 16)))) {
      assertThatThrownBy(() -> OnnxModel.parse(m.toByteArray(), modelDir, "hostile"))
          .isInstanceOf(ExternalDataException.class)
          .hasMessageContaining("'kc'");
    }
  }

  @Test
  void aLegitimateConstantReferenceIsEmbeddedWhenSavedElsewhere() throws IOException {
    Path modelDir = Files.createDirectories(dir.resolve("m"));
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(1).putFloat(2).putFloat(3).putFloat(4);
    Files.write(modelDir.resolve("w.bin"), b.array());
    Path file = modelDir.resolve("model.onnx");
    Files.write(file, constantModel(external("kc", "w.bin", 16)).toByteArray());
    OnnxModel m = OnnxModel.load(file);
    assertThat(m.externalDataFiles()).containsExactly(modelDir.resolve("w.bin").toAbsolutePath());

    Path other = Files.createDirectories(dir.resolve("elsewhere")).resolve("out.onnx");
    m.save(other);
    OnnxModel back = OnnxModel.load(other);
    List<Onnx.TensorProto> all = new ArrayList<>();
    ModelTensors.forEach(back.graph(), all::add);
    assertThat(all).hasSize(1);
    assertThat(all.get(0).getDataLocation()).isNotEqualTo(Onnx.TensorProto.DataLocation.EXTERNAL);
    assertThat(TensorData.toTensor(all.get(0), null).toFloatArray()).containsExactly(1, 2, 3, 4);
    assertThat(back.externalDataFiles()).isEmpty();

    // Saved with external data, the Constant is embedded too: only initializers go to the file.
    Path ext = dir.resolve("elsewhere/ext.onnx");
    m.save(ext, SaveOptions.external().withSizeThreshold(1));
    List<Onnx.TensorProto> extAll = new ArrayList<>();
    ModelTensors.forEach(OnnxModel.load(ext).graph(), extAll::add);
    assertThat(extAll.get(0).getDataLocation())
        .isNotEqualTo(Onnx.TensorProto.DataLocation.EXTERNAL);
  }
}
