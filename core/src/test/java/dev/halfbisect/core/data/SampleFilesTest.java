package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15: sample sets from files, folders, a sample axis and Polygraphy JSON. */
class SampleFilesTest {
  @TempDir Path tmp;

  private static Map<String, Tensor> sample(long first) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("ids", Tensor.ofLongs(new long[] {1, 3}, first, first + 1, first + 2));
    m.put("x", Tensor.ofFloats(new long[] {1, 2}, first / 2f, -1f));
    return m;
  }

  @Test
  void folderIsItsFilesInNameOrderAfterEarlierPaths() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("set"));
    Npz.write(dir.resolve("b.npz"), sample(20));
    Npz.write(dir.resolve("a.npz"), sample(10));
    Files.writeString(dir.resolve("notes.txt"), "ignored");
    Files.createDirectories(dir.resolve("sub"));
    Path one = tmp.resolve("first.npz");
    Npz.write(one, sample(1));
    List<Map<String, Tensor>> s = SampleFiles.load(List.of(one, dir), null);
    assertThat(s).hasSize(3);
    assertThat(s).extracting(m -> m.get("ids").toLongArray()[0]).containsExactly(1L, 10L, 20L);
    Path npy = tmp.resolve("ids.npy");
    Npy.write(npy, Tensor.ofLongs(new long[] {1, 3}, 7, 8, 9));
    assertThat(SampleFiles.load(List.of(npy), null).get(0).get("ids").toLongArray())
        .containsExactly(7, 8, 9);
  }

  @Test
  void sampleAxisSplitsKeepingOrDroppingTheAxis() throws Exception {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("ids", Tensor.ofLongs(new long[] {3, 2}, 1, 2, 3, 4, 5, 6));
    m.put("x", Tensor.ofFloats(new long[] {3, 1, 2}, 1, 2, 3, 4, 5, 6));
    Path f = tmp.resolve("stacked.npz");
    Npz.write(f, m);
    // ids keeps the axis (model input [1, 2]); x drops it (model input [1, 2], array rank 3)
    List<Map<String, Tensor>> s = SampleFiles.load(List.of(f), (name, rank) -> rank == 2);
    assertThat(s).hasSize(3);
    assertThat(s.get(2).get("ids").shape()).containsExactly(1, 2);
    assertThat(s.get(2).get("ids").toLongArray()).containsExactly(5, 6);
    assertThat(s.get(1).get("x").shape()).containsExactly(1, 2);
    assertThat(s.get(1).get("x").toFloatArray()).containsExactly(3f, 4f);

    Map<String, Tensor> bad = new LinkedHashMap<>(m);
    bad.put("y", Tensor.ofFloats(new long[] {2}, 1, 2));
    Npz.write(tmp.resolve("bad.npz"), bad);
    assertThatThrownBy(
            () -> SampleFiles.load(List.of(tmp.resolve("bad.npz")), (name, rank) -> true))
        .hasMessageContaining("bad.npz")
        .hasMessageContaining("disagree on the number of samples")
        .hasMessageContaining("'y' has 2");
  }

  @Test
  void readsPolygraphyInputsJson() throws Exception {
    // What polygraphy run --save-inputs writes: a list of feed dicts, arrays as base64 np.save
    // bytes
    String a = Base64.getEncoder().encodeToString(Npy.toBytes(sample(5).get("ids")));
    String b = Base64.getEncoder().encodeToString(Npy.toBytes(sample(6).get("x")));
    String json =
        "[{\"ids\": {\"array\": \""
            + a
            + "\", \"polygraphy_class\": \"ndarray\"}},"
            + " {\"x\": {\"array\": \""
            + b
            + "\", \"polygraphy_class\": \"ndarray\"}}]";
    Path f = tmp.resolve("inputs.json");
    Files.writeString(f, json, StandardCharsets.UTF_8);
    List<Map<String, Tensor>> s = SampleFiles.load(List.of(f), null);
    assertThat(s).hasSize(2);
    assertThat(s.get(0).get("ids").toLongArray()).containsExactly(5, 6, 7);
    assertThat(s.get(1).get("x").toFloatArray()).containsExactly(3f, -1f);

    Files.writeString(f, "{\"ids\": [1, 2]}");
    assertThatThrownBy(() -> SampleFiles.load(List.of(f), null))
        .hasMessageContaining("inputs.json")
        .hasMessageContaining("input 'ids'")
        .hasMessageContaining("not a Polygraphy-encoded array");
    Files.writeString(f, "{\"polygraphy_class\": \"RunResults\", \"lst\": []}");
    assertThatThrownBy(() -> SampleFiles.load(List.of(f), null))
        .hasMessageContaining("a Polygraphy RunResults");
  }

  @Test
  void badPathsAreNamed() throws Exception {
    assertThatThrownBy(() -> SampleFiles.load(List.of(tmp.resolve("none.npz")), null))
        .hasMessageContaining("none.npz not found");
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertThatThrownBy(() -> SampleFiles.load(List.of(empty), null))
        .hasMessageContaining("holds no .npz, .npy or .json");
    Path txt = Files.writeString(tmp.resolve("a.txt"), "x");
    assertThatThrownBy(() -> SampleFiles.load(List.of(txt), null))
        .hasMessageContaining("must be .npz, .npy");
  }
}
