package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.data.Npz;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 17 point 4 and 5: output a user can paste, and files that round-trip. */
class PasteableOutputCliTest {
  @TempDir Path tmp;

  private static CliRun run(String command, Path model, String... extra) {
    return CliRun.onInterpreter(command, model, extra);
  }

  @Test
  void trtexecLineNamesTheModelFileShellQuotedAndIsNeverWrapped() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("my models"));
    Path model = TestModels.write(TestModels.overflow(), dir.resolve("over flow.onnx"));
    Path out = tmp.resolve("out");
    CliRun r = run("precision", model, "--out", out.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    String line =
        "trtexec '--onnx="
            + model
            + "' --fp16 --noTF32 --precisionConstraints=obey --layerPrecisions=shrink:fp32,square:fp32";
    assertThat(r.out().lines()).contains("  " + line);
    assertThat(Files.readString(out.resolve("report.md"))).contains("```sh\n" + line + "\n```");
    assertThat(Files.readString(out.resolve("report.html")))
        .contains("<pre>" + line.replace("'", "&#39;") + "</pre>");
  }

  @Test
  void reportReRendersAnHtmlReportAsItsFooterSays() throws IOException {
    Path model = TestModels.write(TestModels.overflow(), tmp.resolve("overflow.onnx"));
    Path out = tmp.resolve("out");
    CliRun first = run("layerwise", model, "--out", out.toString());
    assertThat(first.exit()).isEqualTo(1);
    Path html = out.resolve("report.html");
    assertThat(Files.readString(html)).contains("halfbisect report FILE.html");
    CliRun again = CliRun.of("report", html.toString());
    assertThat(again.exit()).as(again.err()).isEqualTo(1);
    assertThat(again.out())
        .isEqualTo(CliRun.of("report", out.resolve("report.json").toString()).out());
    assertThat(again.out()).contains("squared");
  }

  @Test
  void reduceOutputsLoadBackWithLoadInputs() throws IOException {
    Path model = TestModels.write(slashNamed(TestModels.overflow()), tmp.resolve("slashes.onnx"));
    Path red = tmp.resolve("red");
    CliRun r = run("reduce", model, "--out", red.toString());
    assertThat(r.exit()).as(r.err()).isEqualTo(1);
    // members are the tensor names as numpy writes them
    assertThat(Npz.read(red.resolve("reference.npz")).keySet()).containsExactly("/blocks/squared");
    CliRun back =
        run(
            "compare",
            red.resolve("reduced.onnx"),
            "--load-inputs",
            red.resolve("inputs.npz").toString(),
            "--json",
            tmp.resolve("c.json").toString());
    assertThat(back.exit()).as(back.err()).isEqualTo(1); // the reduced model still fails
    assertThat(back.err()).doesNotContain("halfbisect:");
  }

  /** The model with every computed tensor under {@code /blocks/} (as PyTorch names them). */
  static Onnx.ModelProto slashNamed(Onnx.ModelProto m) {
    Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
    java.util.Set<String> keep = new java.util.HashSet<>();
    g.getInputList().forEach(i -> keep.add(i.getName()));
    g.getInitializerList().forEach(i -> keep.add(i.getName()));
    java.util.function.UnaryOperator<String> ren = n -> keep.contains(n) ? n : "/blocks/" + n;
    for (int i = 0; i < g.getNodeCount(); i++) {
      Onnx.NodeProto.Builder n = g.getNodeBuilder(i);
      for (int k = 0; k < n.getInputCount(); k++) {
        n.setInput(k, ren.apply(n.getInput(k)));
      }
      for (int k = 0; k < n.getOutputCount(); k++) {
        n.setOutput(k, ren.apply(n.getOutput(k)));
      }
    }
    for (int i = 0; i < g.getOutputCount(); i++) {
      g.getOutputBuilder(i).setName(ren.apply(g.getOutput(i).getName()));
    }
    return m.toBuilder().setGraph(g).build();
  }
}
