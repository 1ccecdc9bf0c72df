package dev.halfbisect.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code precision --search-margin}: room below the bound for a rebuild that errs more. */
class SearchMarginCliTest {
  @TempDir Path tmp;
  Path chain;
  Path json;

  @BeforeEach
  void model() throws IOException {
    chain = TestModels.write(TestModels.roundingChain(), tmp.resolve("chain.onnx"));
    json = tmp.resolve("r.json");
  }

  private JsonNode run(String command, String... extra) throws IOException {
    List<String> args = new ArrayList<>(List.of("--json", json.toString(), "--no-price"));
    args.addAll(List.of(extra));
    CliRun r = CliRun.analyse(command, chain, "ort:fp32", "ort:fp16-emulated", args);
    assertThat(r.exit()).as(r.err()).isIn(0, 1);
    return new ObjectMapper().readTree(Files.readString(json));
  }

  @Test
  void theSearchKeepsTheRoomAskedForAndTheVerdictUsesTheWholeBound() throws IOException {
    double e = run("compare").at("/tensors/0/normalizedError").asDouble();
    assertThat(e).isPositive();
    String bound = Double.toString(e / 0.7); // all-FP16 passes at 70% of it
    JsonNode plain = run("precision", "--max-error", bound);
    assertThat(plain.path("fp32Nodes").size()).isZero();

    JsonNode kept = run("precision", "--max-error", bound, "--search-margin", "0.5");
    assertThat(kept.path("verdict").asText()).isEqualTo("pass");
    assertThat(kept.path("fp32Nodes").size()).isPositive();
    assertThat(kept.at("/samples/outputs/0/boundShare").asDouble()).isLessThanOrEqualTo(0.5);
    assertThat(kept.at("/tolerance/normalizedErrorLimit").asDouble())
        .isEqualTo(Double.parseDouble(bound));
    assertThat(kept.path("warnings").toString())
        .contains("searched with a margin (--search-margin 0.5)");
  }

  @Test
  void aMarginOutOfRangeOrOnAnElementwiseCheckIsAUsageError() {
    CliRun zero =
        CliRun.analyse(
            "precision", chain, "ort:fp32", "ort:fp16-emulated", List.of("--search-margin", "0"));
    assertThat(zero.exit()).isEqualTo(2);
    assertThat(zero.errLine()).contains("search margin must be in (0, 1], got 0.0");
    CliRun atol =
        CliRun.analyse(
            "precision",
            chain,
            "ort:fp32",
            "ort:fp16-emulated",
            List.of("--atol", "1e-3", "--search-margin", "0.8"));
    assertThat(atol.exit()).isEqualTo(2);
    assertThat(atol.errLine())
        .contains("--search-margin 0.8 scales the normalized-error bound (--max-error)");
  }

  @Test
  void aCommandRefusedAfterTheOutputCheckLeavesNoFolderItCreated() throws IOException {
    // the facade refuses the margin on an elementwise check after --out was checked (and made)
    assertThat(refusedInto(tmp.resolve("new/out")).exit()).isEqualTo(2);
    assertThat(tmp.resolve("new")).doesNotExist();
    // a folder the user had stays, empty or not
    Path mine = Files.createDirectories(tmp.resolve("mine"));
    assertThat(refusedInto(mine).exit()).isEqualTo(2);
    assertThat(mine).isEmptyDirectory();
  }

  /** precision with a margin on an atol check (refused by the facade), writing into {@code out}. */
  private CliRun refusedInto(Path out) {
    List<String> args =
        List.of("--atol", "1e-3", "--search-margin", "0.8", "--out", out.toString());
    return CliRun.analyse("precision", chain, "ort:fp32", "ort:fp16-emulated", args);
  }
}
