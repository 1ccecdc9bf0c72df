package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reference values kept between processes (issue 18), so that {@code bisect} after {@code
 * layerwise} after {@code compare} on the same model, inputs and reference backend runs the FP32
 * reference once. {@link #NONE} keeps nothing; {@link #onDisk} keeps them in a folder.
 */
public interface ReferenceStore {
  /** Keeps nothing: every context runs its reference. */
  ReferenceStore NONE = (model, samples, backends) -> Run.NONE;

  /**
   * The stored values of one reference run: {@code model} on {@code samples} with the reference
   * backend, mode and build properties of {@code backends}.
   */
  Run forRun(ModelGraph model, List<? extends Map<String, Tensor>> samples, ProbeBackends backends);

  /**
   * A folder of reference values, at most {@code maxBytes} on disk (least recently used runs are
   * deleted first) and runs unused for {@code maxAgeDays} deleted when a run is opened.
   */
  static ReferenceStore onDisk(Path dir, long maxBytes, int maxAgeDays) {
    return new DiskReferenceStore(dir, maxBytes, maxAgeDays);
  }

  /**
   * Keeps values in this JVM only, e.g. shared by the emulation and candidate contexts of one
   * emulation-first search, which compare against the same reference.
   */
  static ReferenceStore inMemory() {
    java.util.Map<String, java.util.Map<String, ImmutableList<Tensor>>> runs =
        new java.util.concurrent.ConcurrentHashMap<>();
    java.util.Map<String, java.util.Map<String, String>> why =
        new java.util.concurrent.ConcurrentHashMap<>();
    return (model, samples, backends) -> {
      String key =
          model.hash()
              + '|'
              + ProbeKeys.hashSamples(samples)
              + '|'
              + backends.referenceLabel()
              + '|'
              + new java.util.TreeMap<>(backends.referenceOptions().identityProperties());
      var values = runs.computeIfAbsent(key, k -> new java.util.concurrent.ConcurrentHashMap<>());
      var folded = why.computeIfAbsent(key, k -> new java.util.concurrent.ConcurrentHashMap<>());
      return new Run() {
        @Override
        public Optional<ImmutableList<Tensor>> load(String tensor) {
          return Optional.ofNullable(values.get(tensor));
        }

        @Override
        public Optional<String> unavailable(String tensor) {
          return Optional.ofNullable(folded.get(tensor));
        }

        @Override
        public void save(String tensor, List<Tensor> perSample) {
          values.put(tensor, ImmutableList.copyOf(perSample));
        }

        @Override
        public void saveUnavailable(String tensor, String reason) {
          folded.put(tensor, reason);
        }
      };
    };
  }

  /** Values of one reference run by tensor name, one tensor per sample. */
  interface Run {
    Run NONE =
        new Run() {
          @Override
          public Optional<ImmutableList<Tensor>> load(String tensor) {
            return Optional.empty();
          }

          @Override
          public Optional<String> unavailable(String tensor) {
            return Optional.empty();
          }

          @Override
          public void save(String tensor, List<Tensor> perSample) {}

          @Override
          public void saveUnavailable(String tensor, String reason) {}
        };

    /** The stored values of {@code tensor}, one per sample. */
    Optional<ImmutableList<Tensor>> load(String tensor);

    /** Why the reference could not observe {@code tensor}, when a run found that. */
    Optional<String> unavailable(String tensor);

    /** Stores the values of {@code tensor}; failures to write are logged, never thrown. */
    void save(String tensor, List<Tensor> perSample);

    /** Stores that the reference cannot observe {@code tensor}. */
    void saveUnavailable(String tensor, String reason);
  }
}
