package dev.halfbisect.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.core.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedOutputsTest {
  private static final List<Map<String, Tensor>> INPUTS =
      List.of(Map.of("x", Tensor.ofFloats(new long[] {2}, 1f, 2f)));

  @Test
  void roundTripsValuesDigestsAndBackend(@TempDir Path dir) throws Exception {
    Tensor a = Tensor.ofFloats(new long[] {1, 2}, 3f, 4f);
    Tensor b = Tensor.ofFloats(new long[] {1}, 5f);
    String model = SavedOutputs.modelDigest(new byte[] {1, 2, 3});
    String inputs = SavedOutputs.inputsDigest(INPUTS);
    SavedOutputs saved =
        SavedOutputs.of(
            model, inputs, "trt:fp32", List.of(Map.of("/out/Add", a), Map.of("/out/Add", b)));
    Path f = dir.resolve("golden.npz");
    saved.write(f);
    SavedOutputs back = SavedOutputs.read(f);
    assertThat(back.modelDigest()).isEqualTo(model);
    assertThat(back.inputsDigest()).isEqualTo(inputs);
    assertThat(back.backend()).isEqualTo("trt:fp32");
    assertThat(back.samples()).isEqualTo(List.of(Map.of("/out/Add", a), Map.of("/out/Add", b)));
    // an ordinary npz as numpy reads it: sample/tensor members plus the header
    assertThat(Npz.read(f).keySet())
        .containsExactly("halfbisect-outputs", "0//out/Add", "1//out/Add");
    back.requireMatch(model, inputs, f.toString());
  }

  @Test
  void refusesAnotherModelOrOtherInputsNamingTheFile() {
    String model = SavedOutputs.modelDigest(new byte[] {1});
    String inputs = SavedOutputs.inputsDigest(INPUTS);
    SavedOutputs saved = SavedOutputs.of(model, inputs, "ort:fp32", List.of(Map.of()));
    String other = SavedOutputs.modelDigest(new byte[] {2});
    assertThatThrownBy(() -> saved.requireMatch(other, inputs, "g.npz"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("g.npz: saved outputs were computed from another model");
    String otherInputs =
        SavedOutputs.inputsDigest(List.of(Map.of("x", Tensor.ofFloats(new long[] {2}, 1f, 3f))));
    assertThat(otherInputs).isNotEqualTo(inputs);
    assertThatThrownBy(() -> saved.requireMatch(model, otherInputs, "g.npz"))
        .hasMessageContaining("g.npz: saved outputs were computed from other inputs");
  }

  @Test
  void aPlainNpzIsNotAnOutputsFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("plain.npz");
    Npz.write(f, Map.of("x", Tensor.ofFloats(new long[] {1}, 1f)));
    assertThatThrownBy(() -> SavedOutputs.read(f))
        .isInstanceOf(NpyFormatException.class)
        .hasMessageContaining(f + ": not a halfbisect outputs file");
    Files.write(f, SavedOutputs.of("m", "i", "ort:fp32", List.of()).toBytes());
    assertThat(SavedOutputs.read(f).samples()).isEmpty();
  }
}
