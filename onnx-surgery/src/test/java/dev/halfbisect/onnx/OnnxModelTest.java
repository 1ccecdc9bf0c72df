package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.TestModels.floats;
import static dev.halfbisect.onnx.TestModels.model;
import static dev.halfbisect.onnx.TestModels.node;
import static dev.halfbisect.onnx.TestModels.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UnknownFieldSet;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
  @TempDir Path dir;

  @Test
  void loadsNamesOpsetAndKeepsBaseDir() throws IOException {
    Path f = dir.resolve("chain.onnx");
    Files.write(f, TestModels.chain().toByteArray());
    OnnxModel m = OnnxModel.load(f);
    assertThat(m.opsetVersion()).isEqualTo(17);
    assertThat(m.baseDir()).contains(dir.toAbsolutePath().normalize());
    assertThat(m.name()).isEqualTo(f.toString());
    assertThat(m.graph().getNodeCount()).isEqualTo(4);
    ModelRef ref = m.toModelRef();
    assertThat(ref.inMemory()).isTrue();
    assertThat(ref.baseDir()).contains(dir.toAbsolutePath().normalize());
    assertThat(Onnx.ModelProto.parseFrom(ref.bytes())).isEqualTo(m.proto());
  }

  @Test
  void namesUnnamedNodesAndDeduplicatesNamesDeterministically() {
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 2))
            .addNode(node("Relu", null, List.of("x"), List.of("a"))) // -> Relu_0
            .addNode(node("Relu", "r", List.of("a"), List.of("b"))) // keeps r
            .addNode(node("Relu", "r", List.of("b"), List.of("c"))) // duplicate -> r__1
            .addNode(
                node(
                    "Neg",
                    "Relu_0",
                    List.of("c"),
                    List.of("d"))) // explicit name wins over generated
            .addNode(node("Abs", "", List.of("d"), List.of("e"))) // -> Abs_4
            .addOutput(value("e", 1, 2))
            .build();
    OnnxModel m = OnnxModel.of(model(g, 13), null, "t");
    assertThat(m.graph().getNodeList())
        .extracting(Onnx.NodeProto::getName)
        .containsExactly("Relu_0__1", "r", "r__1", "Relu_0", "Abs_4");
    OnnxModel again = OnnxModel.of(model(g, 13), null, "t");
    assertThat(again.proto()).isEqualTo(m.proto());
    // An already well-named model is returned as is.
    assertThat(OnnxModel.of(m.proto(), null, "t").proto()).isSameAs(m.proto());
  }

  @Test
  void unknownFieldsSurviveLoadAndSave() throws IOException {
    byte[] base = TestModels.chain().toByteArray();
    // field 999, varint 42: tag = (999 << 3) | 0, encoded as varint
    byte[] extra = {(byte) 0xB8, (byte) 0x3E, 42};
    byte[] bytes = Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, bytes, base.length, extra.length);
    OnnxModel m = OnnxModel.parse(bytes, dir, "with-unknown");
    UnknownFieldSet u = m.proto().getUnknownFields();
    assertThat(u.hasField(999)).isTrue();
    Path out = dir.resolve("out.onnx");
    MarkOutputs.tensors(m, List.of("a")).save(out);
    Onnx.ModelProto reread = Onnx.ModelProto.parseFrom(Files.readAllBytes(out));
    assertThat(reread.getUnknownFields().getField(999).getVarintList()).containsExactly(42L);
  }

  @Test
  void garbageAndTruncatedBytesAreMalformedNamingTheFile() throws IOException {
    byte[] good = TestModels.chain().toByteArray();
    assertThatThrownBy(
            () -> OnnxModel.parse(Arrays.copyOf(good, good.length - 7), null, "cut.onnx"))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("cut.onnx");
    byte[] garbage = new byte[300];
    new java.util.Random(3).nextBytes(garbage);
    assertThatThrownBy(() -> OnnxModel.parse(garbage, null, "noise.bin"))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("noise.bin");
    assertThatThrownBy(() -> OnnxModel.parse(new byte[0], null, "empty.onnx"))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("empty.onnx")
        .hasMessageContaining("no graph");
    Path f = dir.resolve("text.onnx");
    Files.writeString(f, "this is not a model\n");
    assertThatThrownBy(() -> OnnxModel.load(f))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("text.onnx");
  }

  @Test
  void savesExternalDataAlignedAndReloads() throws IOException {
    float[] big = new float[1000];
    for (int i = 0; i < big.length; i++) {
      big[i] = i * 0.5f;
    }
    Onnx.ModelProto p =
        TestModels.chain().toBuilder()
            .setGraph(
                TestModels.chain().getGraph().toBuilder()
                    .addInitializer(floats("big", new long[] {1000}, big)))
            .build();
    OnnxModel m = OnnxModel.of(p, null, "m");
    Path f = dir.resolve("ext.onnx");
    m.save(f, SaveOptions.external().withSizeThreshold(16).withAlignment(4096));
    assertThat(dir.resolve("ext.onnx.data")).exists();
    OnnxModel back = OnnxModel.load(f);
    Onnx.TensorProto bigT = back.index().initializer("big").orElseThrow();
    assertThat(bigT.getDataLocation()).isEqualTo(Onnx.TensorProto.DataLocation.EXTERNAL);
    assertThat(bigT.hasRawData()).isFalse();
    long offset =
        Long.parseLong(
            bigT.getExternalDataList().stream()
                .filter(e -> e.getKey().equals("offset"))
                .findFirst()
                .orElseThrow()
                .getValue());
    assertThat(offset % 4096).isZero();
    assertThat(back.index().initializer("w").orElseThrow().getDataLocation())
        .isEqualTo(Onnx.TensorProto.DataLocation.EXTERNAL); // 16 bytes >= threshold
    assertThat(back.index().initializer("unused").orElseThrow().hasRawData())
        .isTrue(); // 8 bytes stay inline
    assertThat(TensorData.toTensor(bigT, back.baseDir().orElseThrow()).toFloatArray())
        .containsExactly(big);

    // Saving inline again embeds the data and needs no data file.
    Path inlineFile = dir.resolve("sub").resolve("inline.onnx");
    back.save(inlineFile);
    OnnxModel inline = OnnxModel.load(inlineFile);
    Onnx.TensorProto t = inline.index().initializer("big").orElseThrow();
    assertThat(t.hasDataLocation()).isFalse();
    assertThat(TensorData.toTensor(t, null).toFloatArray()).containsExactly(big);

    // Saving over the file the model was loaded from rewrites it consistently.
    back.save(f, SaveOptions.external().withSizeThreshold(16));
    assertThat(
            TensorData.toTensor(OnnxModel.load(f).index().initializer("big").orElseThrow(), dir)
                .toFloatArray())
        .containsExactly(big);
  }

  private static Onnx.TensorProto external(
      String name, long[] dims, String location, long offset, long length) {
    Onnx.TensorProto.Builder t =
        Onnx.TensorProto.newBuilder()
            .setName(name)
            .setDataType(1)
            .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue(location))
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder()
                    .setKey("offset")
                    .setValue(Long.toString(offset)));
    if (length >= 0) {
      t.addExternalData(
          Onnx.StringStringEntryProto.newBuilder()
              .setKey("length")
              .setValue(Long.toString(length)));
    }
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static byte[] modelWith(Onnx.TensorProto init) {
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 4))
            .addInitializer(init)
            .addNode(node("Add", "add", List.of("x", init.getName()), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build();
    return model(g, 13).toByteArray();
  }

  @Test
  void hostileExternalLocationsAreRejectedNamingTensorAndLocation() throws IOException {
    Path modelDir = Files.createDirectories(dir.resolve("model"));
    Files.write(dir.resolve("outside.bin"), new byte[64]);
    Files.write(modelDir.resolve("ok.bin"), new byte[16]);
    Files.createSymbolicLink(modelDir.resolve("link.bin"), dir.resolve("outside.bin"));

    assertThatThrownBy(
            () ->
                OnnxModel.parse(
                    modelWith(
                        external(
                            "w", new long[] {4}, dir.resolve("outside.bin").toString(), 0, 16)),
                    modelDir,
                    "abs"))
        .isInstanceOf(ExternalDataException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("absolute");
    assertThatThrownBy(
            () ->
                OnnxModel.parse(
                    modelWith(external("w", new long[] {4}, "../outside.bin", 0, 16)),
                    modelDir,
                    "dotdot"))
        .isInstanceOf(ExternalDataException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("../outside.bin")
        .hasMessageContaining("escapes");
    assertThatThrownBy(
            () ->
                OnnxModel.parse(
                    modelWith(external("w", new long[] {4}, "link.bin", 0, 16)),
                    modelDir,
                    "symlink"))
        .isInstanceOf(ExternalDataException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("link.bin")
        .hasMessageContaining("outside");
    assertThatThrownBy(
            () ->
                OnnxModel.parse(
                    modelWith(external("w", new long[] {4}, "missing.bin", 0, 16)),
                    modelDir,
                    "missing"))
        .isInstanceOf(ExternalDataException.class)
        .hasMessageContaining("missing.bin")
        .hasMessageContaining("does not exist");
    assertThatThrownBy(
            () ->
                OnnxModel.parse(
                    modelWith(external("w", new long[] {4}, "ok.bin", 8, 16)), modelDir, "beyond"))
        .isInstanceOf(ExternalDataException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("beyond the end");
    assertThatThrownBy(
            () ->
                OnnxModel.parse(
                    modelWith(external("w", new long[] {4}, "ok.bin", -1, 16)),
                    modelDir,
                    "negative"))
        .isInstanceOf(ExternalDataException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("negative");
    // The valid reference loads and reads.
    OnnxModel ok =
        OnnxModel.parse(modelWith(external("w", new long[] {4}, "ok.bin", 0, 16)), modelDir, "ok");
    assertThat(
            TensorData.toTensor(ok.index().initializer("w").orElseThrow(), modelDir).toFloatArray())
        .containsExactly(0f, 0f, 0f, 0f);
    // Without a folder there is nothing to resolve against; the lazy read says so.
    OnnxModel noDir =
        OnnxModel.of(
            Onnx.ModelProto.parseFrom(modelWith(external("w", new long[] {4}, "ok.bin", 0, 16))),
            null,
            "nodir");
    assertThatThrownBy(
            () -> TensorData.toTensor(noDir.index().initializer("w").orElseThrow(), null))
        .isInstanceOf(ExternalDataException.class)
        .hasMessageContaining("no folder");
  }

  @Test
  void offsetsBeyond2GbWorkAndTooLargeInlineSaveIsAClearError() throws IOException {
    Path modelDir = Files.createDirectories(dir.resolve("large"));
    Path data = modelDir.resolve("weights.bin");
    long offset = 3L << 30; // 3 GiB into a sparse file
    try (RandomAccessFile raf = new RandomAccessFile(data.toFile(), "rw")) {
      raf.setLength(offset + 16);
      raf.seek(offset);
      ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
      b.putFloat(1.5f).putFloat(-2f).putFloat(70000f).putFloat(1e-9f);
      raf.write(b.array());
    }
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 4))
            .addInitializer(external("w", new long[] {4}, "weights.bin", offset, 16))
            // A 2.5 GiB tensor over the sparse file: indexable and too large to inline.
            .addInitializer(
                external("huge", new long[] {(5L << 30) / 8}, "weights.bin", 0, (5L << 30) / 2))
            .addNode(node("Add", "add", List.of("x", "w"), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build();
    Path f = modelDir.resolve("large.onnx");
    Files.write(f, model(g, 13).toByteArray());
    OnnxModel m = OnnxModel.load(f);
    Tensor w = TensorData.toTensor(m.index().initializer("w").orElseThrow(), modelDir);
    assertThat(w.toFloatArray()).containsExactly(1.5f, -2f, 70000f, 1e-9f);
    assertThatThrownBy(() -> m.save(dir.resolve("inline.onnx")))
        .isInstanceOf(OnnxModelException.class)
        .hasMessageContaining("2 GB")
        .hasMessageContaining("external");
    assertThatThrownBy(
            () -> TensorData.toTensor(m.index().initializer("huge").orElseThrow(), modelDir))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("huge");
  }

  @Test
  void hugeDeclaredInitializerWithShortDataIsAnErrorNotOom() {
    Onnx.TensorProto lie =
        Onnx.TensorProto.newBuilder()
            .setName("lie")
            .setDataType(1)
            .addDims(1_000_000L)
            .addDims(1_000_000L)
            .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[16]))
            .build();
    assertThatThrownBy(() -> TensorData.toTensor(lie, null))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("lie")
        .hasMessageContaining("16 bytes");
    Onnx.TensorProto typed =
        Onnx.TensorProto.newBuilder()
            .setName("typed")
            .setDataType(1)
            .addDims(1_000_000L)
            .addDims(1_000_000L)
            .addFloatData(1f)
            .build();
    assertThatThrownBy(() -> TensorData.toTensor(typed, null))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("typed");
    OnnxModel m =
        OnnxModel.of(
            TestModels.chain().toBuilder()
                .setGraph(TestModels.chain().getGraph().toBuilder().addInitializer(lie))
                .build(),
            null,
            "liar");
    assertThatThrownBy(() -> InitializerRangeReport.of(m))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("lie");
  }

  @Test
  void typedFieldInitializersGoExternalAsRawBytes() throws IOException {
    Onnx.TensorProto typed =
        Onnx.TensorProto.newBuilder()
            .setName("w")
            .setDataType(1)
            .addDims(4)
            .addFloatData(1f)
            .addFloatData(-2f)
            .addFloatData(3f)
            .addFloatData(0.25f)
            .build();
    Onnx.TensorProto halfBits =
        Onnx.TensorProto.newBuilder()
            .setName("h")
            .setDataType(10)
            .addDims(2)
            .addInt32Data(dev.halfbisect.core.Half.fromFloat(1.5f) & 0xffff)
            .addInt32Data(dev.halfbisect.core.Half.fromFloat(-4f) & 0xffff)
            .build();
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .addInput(value("x", 1, 4))
            .addInitializer(typed)
            .addInitializer(halfBits)
            .addNode(node("Add", "add", List.of("x", "w"), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build();
    Path f = dir.resolve("typed.onnx");
    OnnxModel.of(model(g, 13), null, "typed")
        .save(f, SaveOptions.external("weights.bin").withSizeThreshold(1));
    OnnxModel back = OnnxModel.load(f);
    Onnx.TensorProto w = back.index().initializer("w").orElseThrow();
    assertThat(w.getFloatDataCount()).isZero();
    assertThat(w.getExternalDataList())
        .anySatisfy(e -> assertThat(e.getValue()).isEqualTo("weights.bin"));
    assertThat(TensorData.toTensor(w, dir).toFloatArray()).containsExactly(1f, -2f, 3f, 0.25f);
    assertThat(TensorData.toTensor(back.index().initializer("h").orElseThrow(), dir).toFloatArray())
        .containsExactly(1.5f, -4f);
  }

  @Test
  void duplicateInitializerNamesAreMalformed() {
    Onnx.GraphProto g =
        TestModels.chain().getGraph().toBuilder()
            .addInitializer(floats("w", new long[] {1}, 5f))
            .build();
    assertThatThrownBy(() -> OnnxModel.parse(model(g, 13).toByteArray(), null, "dup-init.onnx"))
        .isInstanceOf(MalformedModelException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("dup-init.onnx");
  }
}
