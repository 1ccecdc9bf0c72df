package dev.halfbisect.ort;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime 1.29's telemetry start recurses once per character of the process command line and
 * killed a JVM with a long {@code -cp} (SIGSEGV at about 3.9 KB with the default 1 MB thread
 * stack). A child JVM with a 16 KB command line and default stacks opens and runs a session.
 */
class LongCommandLineTest {
  @TempDir Path tmp;

  @Test
  void aJvmWithASixteenKilobyteCommandLineStartsOnnxRuntime() throws Exception {
    Path log = tmp.resolve("child.log");
    Process p =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1",
                    "-XX:ErrorFile=" + tmp.resolve("hs_err.log"),
                    "-Dhalfbisect.cacheDir=" + tmp.resolve("cache"),
                    "-Dpadding=" + "p".repeat(16 * 1024),
                    "-cp",
                    System.getProperty("java.class.path"),
                    Child.class.getName()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("child finished").isTrue();
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("out=[4.5, 5.5, 6.5, 7.5]");
  }

  /** The child: the first touch of ORT, then a session run ((x + x) * x + ids with x = 1.5). */
  static final class Child {
    private Child() {}

    public static void main(String[] args) throws Exception {
      try (BackendSession s =
          new OrtBackend().open(ProtoModels.twoInputs(), BuildOptions.of("fp32"))) {
        Tensor x = Tensor.ofFloats(new long[] {1, 4}, 1.5f, 1.5f, 1.5f, 1.5f);
        Tensor ids = Tensor.ofLongs(new long[] {1, 4}, 0, 1, 2, 3);
        float[] out = s.run(Map.of("ids", ids, "x", x)).get("out").toFloatArray();
        System.out.println("out=" + java.util.Arrays.toString(out));
      }
    }
  }
}
