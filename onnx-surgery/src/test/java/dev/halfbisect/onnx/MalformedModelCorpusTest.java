package dev.halfbisect.onnx;

import static dev.halfbisect.onnx.TestModels.floats;
import static dev.halfbisect.onnx.TestModels.model;
import static dev.halfbisect.onnx.TestModels.node;
import static dev.halfbisect.onnx.TestModels.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.onnx.proto.Onnx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corpus of malformed models, each built in code, written to a file and loaded: every one is
 * rejected with an {@link OnnxModelException} whose message names the file or the offending
 * node/tensor. {@link #corpus} is shared with the CLI's malformed-input test.
 */
class MalformedModelCorpusTest {
  @TempDir Path tmp;

  /** A malformed model: how to write it into a folder, and what its rejection message must name. */
  record Case(
      String file, Writer writer, String mustName, Class<? extends OnnxModelException> type) {}

  /** Writes a case's files into {@code dir} (model first, data files and links next to it). */
  interface Writer {
    void write(Path dir, Path outside) throws Exception;
  }

  static List<Case> corpus() {
    byte[] valid = TestModels.chain().toByteArray();
    return List.of(
        new Case(
            "truncated.onnx",
            (d, o) ->
                Files.write(d.resolve("truncated.onnx"), Arrays.copyOf(valid, valid.length / 2)),
            "truncated.onnx",
            MalformedModelException.class),
        new Case(
            "garbage.onnx",
            (d, o) ->
                Files.write(
                    d.resolve("garbage.onnx"),
                    "this is not a protobuf at all \u0000\u00ff".getBytes(StandardCharsets.UTF_8)),
            "garbage.onnx",
            MalformedModelException.class),
        new Case(
            "empty.onnx",
            (d, o) -> Files.write(d.resolve("empty.onnx"), new byte[0]),
            "empty.onnx",
            MalformedModelException.class),
        new Case(
            "cycle.onnx",
            (d, o) -> write(d, "cycle.onnx", cycle()),
            "loop_b",
            GraphCycleException.class),
        new Case(
            "duplicate-output.onnx",
            (d, o) -> write(d, "duplicate-output.onnx", duplicateProducer()),
            "'a'",
            MalformedModelException.class),
        new Case(
            "dangling.onnx",
            (d, o) -> write(d, "dangling.onnx", dangling()),
            "nowhere",
            MalformedModelException.class),
        new Case(
            "huge-shape.onnx",
            (d, o) -> write(d, "huge-shape.onnx", hugeInitializer()),
            "w",
            MalformedModelException.class),
        new Case(
            "absolute.onnx",
            (d, o) ->
                write(d, "absolute.onnx", external(o.resolve("w.bin").toAbsolutePath().toString())),
            "absolute",
            ExternalDataException.class),
        new Case(
            "dotdot.onnx",
            (d, o) -> write(d, "dotdot.onnx", external("../outside/w.bin")),
            "'w'",
            ExternalDataException.class),
        new Case(
            "symlink.onnx",
            (d, o) -> {
              Files.createSymbolicLink(d.resolve("link"), o);
              write(d, "symlink.onnx", external("link/w.bin"));
            },
            "'w'",
            ExternalDataException.class),
        new Case(
            "missing-data.onnx",
            (d, o) -> write(d, "missing-data.onnx", external("nothere.bin")),
            "'w'",
            ExternalDataException.class));
  }

  @Test
  void everyMalformedModelIsRejectedWithATypedMessageNamingTheProblem() throws Exception {
    for (Case c : corpus()) {
      Path root = Files.createDirectories(tmp.resolve(c.file() + ".case"));
      Path dir = Files.createDirectories(root.resolve("model"));
      Path outside = Files.createDirectories(root.resolve("outside"));
      Files.write(outside.resolve("w.bin"), new byte[64]);
      c.writer().write(dir, outside);
      Path file = dir.resolve(c.file());
      Throwable thrown = null;
      try {
        // loading checks structure and external references; inline payloads are checked when read
        OnnxModel m = OnnxModel.load(file);
        for (Onnx.TensorProto t : m.graph().getInitializerList()) {
          TensorData.toTensor(t, dir);
        }
      } catch (RuntimeException e) {
        thrown = e;
      }
      assertThat(thrown).as(c.file() + " is rejected").isNotNull();
      assertThat(thrown)
          .as(c.file())
          .isInstanceOf(c.type())
          .hasMessageContaining(c.mustName())
          .satisfies(e -> assertThat(e.getMessage()).as("one line").doesNotContain("\n"));
    }
  }

  @Test
  void declaredHugeValueShapesDoNotAllocate() {
    // a graph input of 10^12 elements is only a declaration: load and index it, nothing allocated
    Onnx.GraphProto g =
        Onnx.GraphProto.newBuilder()
            .setName("g")
            .addInput(value("x", 1, 1_000_000, 1_000_000))
            .addNode(node("Relu", "r", List.of("x"), List.of("y")))
            .addOutput(value("y", 1, 1_000_000, 1_000_000))
            .build();
    OnnxModel m = OnnxModel.parse(model(g, 17).toByteArray(), tmp, "huge-input.onnx");
    assertThat(m.index().shape("y"))
        .hasValueSatisfying(s -> assertThat(s).containsExactly(1_000_000, 1_000_000));
    assertThat(MarkOutputs.allFloat(m).index().graphOutputs()).contains("y");
  }

  static void write(Path dir, String name, Onnx.ModelProto p) throws Exception {
    Files.write(dir.resolve(name), p.toByteArray());
  }

  static Onnx.ModelProto cycle() {
    return model(
        Onnx.GraphProto.newBuilder()
            .setName("cycle")
            .addInput(value("x", 1, 4))
            .addNode(node("Add", "loop_a", List.of("x", "b"), List.of("a")))
            .addNode(node("Relu", "loop_b", List.of("a"), List.of("b")))
            .addOutput(value("b", 1, 4))
            .build(),
        17);
  }

  static Onnx.ModelProto duplicateProducer() {
    return model(
        Onnx.GraphProto.newBuilder()
            .setName("dup")
            .addInput(value("x", 1, 4))
            .addNode(node("Relu", "first", List.of("x"), List.of("a")))
            .addNode(node("Neg", "second", List.of("x"), List.of("a")))
            .addOutput(value("a", 1, 4))
            .build(),
        17);
  }

  static Onnx.ModelProto dangling() {
    return model(
        Onnx.GraphProto.newBuilder()
            .setName("dangling")
            .addInput(value("x", 1, 4))
            .addNode(node("Add", "add", List.of("x", "nowhere"), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build(),
        17);
  }

  static Onnx.ModelProto hugeInitializer() {
    // 10^12 float elements declared, 16 bytes present
    Onnx.TensorProto w =
        floats("w", new long[] {4}, 1, 2, 3, 4).toBuilder()
            .clearDims()
            .addDims(1_000_000)
            .addDims(1_000_000)
            .build();
    return model(
        Onnx.GraphProto.newBuilder()
            .setName("huge")
            .addInput(value("x", 1, 4))
            .addInitializer(w)
            .addNode(node("Add", "add", List.of("x", "w"), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build(),
        17);
  }

  static Onnx.ModelProto external(String location) {
    Onnx.TensorProto w =
        Onnx.TensorProto.newBuilder()
            .setName("w")
            .setDataType(1)
            .addDims(4)
            .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue(location))
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("length").setValue("16"))
            .build();
    return model(
        Onnx.GraphProto.newBuilder()
            .setName("ext")
            .addInput(value("x", 1, 4))
            .addInitializer(w)
            .addNode(node("Add", "add", List.of("x", "w"), List.of("y")))
            .addOutput(value("y", 1, 4))
            .build(),
        17);
  }
}
