package dev.halfbisect.bisect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.halfbisect.bisect.testing.InterpreterBackend;
import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 18: reference values kept on disk, so a later context (process) runs no reference. */
class ReferenceStoreTest {
  private static final ModelGraph PLANTED = TestModels.transformer(6, 3);
  private static final List<Map<String, Tensor>> SAMPLES = TestModels.transformerSamples(2);

  private static BisectContext context(ReferenceStore store, List<Map<String, Tensor>> samples) {
    return TestModels.context(PLANTED, new InterpreterBackend(), samples)
        .maxChunkTensors(9)
        .referenceStore(store)
        .build();
  }

  @Test
  void bisectAfterLayerwiseAfterCompareRunsTheReferenceOnce(@TempDir Path dir) {
    ReferenceStore store = ReferenceStore.onDisk(dir, 64L << 20, 30);
    BisectContext compare = context(store, SAMPLES);
    Layerwise.Result outs = Layerwise.run(compare, t -> false);
    assertThat(compare.prober().referenceBuilds()).isEqualTo(1);

    BisectContext layerwise = context(store, SAMPLES);
    Layerwise.Result all = Layerwise.run(layerwise);
    int chunks = (PLANTED.floatTensors().size() + 8) / 9;
    assertThat(layerwise.prober().referenceBuilds()).isEqualTo(chunks);

    BisectContext bisect = context(store, SAMPLES);
    FirstDivergence.Result d = FirstDivergence.search(bisect);
    assertThat(bisect.prober().referenceBuilds()).isZero();
    assertThat(d.divergence().get().node()).isEqualTo(TestModels.plantUp(3));

    // The same answers as without the store.
    BisectContext fresh = context(ReferenceStore.NONE, SAMPLES);
    assertThat(Layerwise.run(fresh).tensors()).isEqualTo(all.tensors());
    assertThat(FirstDivergence.search(context(ReferenceStore.NONE, SAMPLES)).divergence())
        .isEqualTo(d.divergence());
    BisectContext again = context(store, SAMPLES);
    assertThat(Layerwise.run(again, t -> false).tensors()).isEqualTo(outs.tensors());
    assertThat(again.prober().referenceBuilds()).isZero();
  }

  @Test
  void otherInputsAreAnotherRun(@TempDir Path dir) {
    ReferenceStore store = ReferenceStore.onDisk(dir, 64L << 20, 30);
    Layerwise.run(context(store, SAMPLES), t -> false);
    BisectContext other = context(store, TestModels.transformerSamples(3));
    Layerwise.run(other, t -> false);
    assertThat(other.prober().referenceBuilds()).isEqualTo(1);
    assertThat(runs(dir)).hasSize(2);
  }

  @Test
  void theSizeCapDeletesTheOldestRunsAndStaleRunsGo(@TempDir Path dir) throws IOException {
    ReferenceStore store = ReferenceStore.onDisk(dir, 64L << 20, 30);
    Layerwise.run(context(store, SAMPLES));
    List<Path> first = runs(dir);
    assertThat(first).hasSize(1);
    long size;
    try (Stream<Path> f = Files.list(first.get(0))) {
      size = f.mapToLong(p -> p.toFile().length()).sum();
    }
    // A cap of about one run: the next run's files push the first one out.
    Files.setLastModifiedTime(first.get(0), FileTime.from(Instant.now().minusSeconds(60)));
    ReferenceStore capped = ReferenceStore.onDisk(dir, size + size / 2, 30);
    Layerwise.run(context(capped, TestModels.transformerSamples(3)));
    assertThat(runs(dir)).hasSize(1).doesNotContain(first.get(0));

    // A run unused for longer than the age limit is deleted when another opens.
    Path old = runs(dir).get(0);
    Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(40))));
    Path foreign = Files.createDirectories(dir.resolve("not-ours"));
    context(ReferenceStore.onDisk(dir, 64L << 20, 30), SAMPLES).prober().reference(List.of("x"));
    assertThat(runs(dir)).doesNotContain(old);
    assertThat(foreign).exists(); // only folders the store made are ever deleted
  }

  @Test
  void foldedTensorsAreRememberedAndAnUnwritableFolderOnlyTurnsTheStoreOff(@TempDir Path dir)
      throws IOException {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    BisectContext ctx = context(ReferenceStore.onDisk(file, 1 << 20, 30), SAMPLES);
    assertThat(Layerwise.run(ctx, t -> false).outputsPass()).isFalse();
    assertThat(Files.readString(file)).isEqualTo("x");
  }

  private static List<Path> runs(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> Files.exists(p.resolve(DiskReferenceStore.MARKER))).toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
