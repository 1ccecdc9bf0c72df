package dev.halfbisect.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.halfbisect.api.testing.TestModels;
import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The facade's side of issue 16: journal(Path) resumes, a non-finite reference is an error. */
class ReliabilityApiTest {
  @TempDir Path dir;

  private HalfBisect overflow() throws IOException {
    return HalfBisect.model(TestModels.write(TestModels.overflow(), dir.resolve("overflow.onnx")))
        .reference("interp:fp32")
        .candidate("interp:fp16-emulated")
        .samples(2);
  }

  @Test
  void journalResumesWithoutBuildsAndFreshJournalBuildsAgain() throws IOException {
    Path journal = dir.resolve("out/probes.jsonl");
    PrecisionResult first = overflow().journal(journal).precision();
    int builds = first.report().builds();
    assertThat(builds).isPositive();
    assertThat(Files.readAllLines(journal)).hasSize(builds + 1); // digest line + one per build

    PrecisionResult again = overflow().journal(journal).precision();
    assertThat(again.report().builds()).isZero();
    assertThat(again.report().warnings())
        .contains("resumed: " + builds + " of " + builds + " probes from the journal " + journal);
    assertThat(again.plan()).isEqualTo(first.plan());

    PrecisionResult fresh = overflow().freshJournal(journal).precision();
    assertThat(fresh.report().builds()).isEqualTo(builds);
    assertThat(fresh.report().warnings()).noneMatch(w -> w.startsWith("resumed:"));
  }

  @Test
  void aNanReferenceIsANonFiniteReferenceErrorNotAPass() throws IOException {
    float[] x = new float[8];
    x[3] = Float.NaN;
    x[5] = Float.NaN;
    HalfBisect hb =
        HalfBisect.model(TestModels.write(TestModels.healthy(), dir.resolve("healthy.onnx")))
            .reference("interp:fp32")
            .candidate("interp:fp16-emulated")
            .inputs(Map.of("x", Tensor.ofFloats(new long[] {1, 8}, x)));
    assertThatThrownBy(hb::compare)
        .isInstanceOf(NonFiniteReferenceException.class)
        .hasMessage("the FP32 reference is not finite at y (2 of 8 values) on these inputs")
        .satisfies(
            e -> {
              NonFiniteReferenceException n = (NonFiniteReferenceException) e;
              assertThat(n.kind()).isEqualTo(HalfBisectException.Kind.BACKEND);
              assertThat(n.tensor()).isEqualTo("y");
              assertThat(n.nonFinite()).isEqualTo(2);
              assertThat(n.total()).isEqualTo(8);
            });
  }

  @Test
  void aDirectoryAsModelSaysSo() {
    assertThatThrownBy(() -> HalfBisect.model(dir))
        .isInstanceOf(HalfBisectException.class)
        .hasMessage("model " + dir + " is a directory; expected an ONNX model file (.onnx)");
  }
}
