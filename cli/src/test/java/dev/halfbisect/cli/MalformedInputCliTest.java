package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npy;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and hostile inputs through the command line: every one ends with exit code 2 or 3, a
 * single-line error naming the file/tensor/member, and nothing written outside {@code --out}.
 */
class MalformedInputCliTest {
  @TempDir Path tmp;

  /** A malformed model file and a piece of text its error line must contain. */
  private record BadModel(Path file, String mustName) {}

  @Test
  void malformedModelsExitWithOneLineErrorAndWriteNothingOutsideOut() throws IOException {
    Path models = Files.createDirectories(tmp.resolve("models"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.write(outside.resolve("w.bin"), new byte[64]);
    List<BadModel> bad = badModels(models, outside);
    Path out = tmp.resolve("out");
    for (BadModel b : bad) {
      for (String[] cmd : commands(b.file(), out)) {
        Map<Path, Long> before = snapshot(tmp);
        CliRun r = CliRun.of(cmd);
        String what = String.join(" ", cmd) + " -> " + r.err();
        assertThat(r.exit()).as(what).isIn(2, 3);
        assertThat(r.errLine())
            .as(what)
            .contains(b.mustName())
            .doesNotContain("\n")
            .doesNotContain("\tat ");
        Map<Path, Long> after = snapshot(tmp);
        after.keySet().removeIf(p -> p.startsWith(out));
        before.keySet().removeIf(p -> p.startsWith(out));
        assertThat(after).as("files outside --out after " + what).isEqualTo(before);
      }
    }
  }

  @Test
  void hostileNpzMemberNamesAreRejectedNamingTheMember() throws IOException {
    Path model = TestModels.write(TestModels.healthy(), tmp.resolve("healthy.onnx"));
    Path out = tmp.resolve("out");
    // issue 17: "/abs" is a tensor name numpy writes as is; only traversal is hostile
    for (String member : List.of("../x.npy", "..\\x.npy", "sub/../../up.npy")) {
      Path npz = tmp.resolve("hostile.npz");
      Files.write(
          npz, zip(member, Npy.toBytes(Tensor.ofFloats(new long[] {1, 16}, new float[16]))));
      Map<Path, Long> before = snapshot(tmp);
      CliRun r =
          CliRun.of(
              "compare",
              model.toString(),
              "--reference",
              "interp:fp32",
              "--candidate",
              "interp:fp16-emulated",
              "--quiet",
              "--load-inputs",
              npz.toString(),
              "--out",
              out.toString());
      String what = member + " -> " + r.err();
      assertThat(r.exit()).as(what).isIn(2, 3);
      assertThat(r.errLine())
          .as(what)
          .contains("hostile.npz")
          .contains(member)
          .doesNotContain("\n");
      Map<Path, Long> after = snapshot(tmp);
      after.keySet().removeIf(p -> p.startsWith(out));
      before.keySet().removeIf(p -> p.startsWith(out));
      assertThat(after).as(what).isEqualTo(before);
      assertThat(tmp.getParent().resolve("x.npy")).doesNotExist();
    }
  }

  private static List<String[]> commands(Path model, Path out) {
    String m = model.toString();
    List<String[]> c = new ArrayList<>();
    c.add(
        new String[] {
          "compare",
          m,
          "--reference",
          "interp:fp32",
          "--candidate",
          "interp:fp16-emulated",
          "--quiet",
          "--out",
          out.toString(),
          "--json",
          out.resolve("r.json").toString()
        });
    c.add(new String[] {"inspect", m});
    c.add(
        new String[] {"surgeon", "mark", m, "--all", "-o", out.resolve("marked.onnx").toString()});
    c.add(new String[] {"surgeon", "fp16", m, "-o", out.resolve("fp16.onnx").toString()});
    return c;
  }

  private static List<BadModel> badModels(Path dir, Path outside) throws IOException {
    byte[] valid = TestModels.healthy().toByteArray();
    List<BadModel> b = new ArrayList<>();
    b.add(
        new BadModel(
            Files.write(dir.resolve("truncated.onnx"), Arrays.copyOf(valid, valid.length / 2)),
            "truncated.onnx"));
    b.add(
        new BadModel(
            Files.write(
                dir.resolve("garbage.onnx"), "GIF89a not a model".getBytes(StandardCharsets.UTF_8)),
            "garbage.onnx"));
    b.add(
        new BadModel(
            write(
                dir,
                "cycle.onnx",
                graph(
                    node("loop_a", "Add", List.of("x", "b"), "a"),
                    node("loop_b", "Relu", List.of("a"), "b"))),
            "loop_"));
    b.add(
        new BadModel(
            write(dir, "dangling.onnx", graph(node("add", "Add", List.of("x", "nowhere"), "b"))),
            "nowhere"));
    b.add(
        new BadModel(
            write(
                dir,
                "dup.onnx",
                graph(
                    node("first", "Relu", List.of("x"), "b"),
                    node("second", "Neg", List.of("x"), "b"))),
            "'b'"));
    b.add(
        new BadModel(
            write(dir, "absolute.onnx", withExternal(outside.resolve("w.bin").toString())), "'w'"));
    b.add(new BadModel(write(dir, "dotdot.onnx", withExternal("../outside/w.bin")), "'w'"));
    Path link = dir.resolve("link");
    if (!Files.exists(link)) {
      Files.createSymbolicLink(link, outside);
    }
    b.add(new BadModel(write(dir, "symlink.onnx", withExternal("link/w.bin")), "'w'"));
    return b;
  }

  private static Map<Path, Long> snapshot(Path root) throws IOException {
    Map<Path, Long> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        m.put(
            p,
            Files.isRegularFile(p)
                ? Files.size(p) + Files.getLastModifiedTime(p).toMillis() * 31
                : -1L);
      }
    }
    return m;
  }

  private static Path write(Path dir, String name, Onnx.ModelProto p) throws IOException {
    return Files.write(dir.resolve(name), p.toByteArray());
  }

  private static Onnx.NodeProto node(String name, String op, List<String> in, String out) {
    return Onnx.NodeProto.newBuilder()
        .setName(name)
        .setOpType(op)
        .addAllInput(in)
        .addOutput(out)
        .build();
  }

  private static Onnx.ValueInfoProto floatValue(String name) {
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            Onnx.TypeProto.newBuilder()
                .setTensorType(
                    Onnx.TypeProto.Tensor.newBuilder()
                        .setElemType(1)
                        .setShape(
                            Onnx.TensorShapeProto.newBuilder()
                                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                                .addDim(
                                    Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(4)))))
        .build();
  }

  private static Onnx.ModelProto graph(Onnx.NodeProto... nodes) {
    Onnx.GraphProto.Builder g =
        Onnx.GraphProto.newBuilder()
            .setName("bad")
            .addInput(floatValue("x"))
            .addOutput(floatValue("b"));
    for (Onnx.NodeProto n : nodes) {
      g.addNode(n);
    }
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(8)
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .setGraph(g)
        .build();
  }

  private static Onnx.ModelProto withExternal(String location) {
    Onnx.TensorProto w =
        Onnx.TensorProto.newBuilder()
            .setName("w")
            .setDataType(1)
            .addDims(1)
            .addDims(4)
            .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue(location))
            .addExternalData(
                Onnx.StringStringEntryProto.newBuilder().setKey("length").setValue("16"))
            .build();
    Onnx.ModelProto m = graph(node("add", "Add", List.of("x", "w"), "b"));
    return m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(w)).build();
  }

  private static byte[] zip(String name, byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(bytes)) {
      z.putNextEntry(new ZipEntry(name));
      z.write(data);
      z.closeEntry();
    }
    return bytes.toByteArray();
  }
}
