package dev.halfbisect.bisect;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.verdict.Tolerance;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Deterministic probe keys: SHA-256 of the model hash, the samples hash, both backends and modes,
 * the candidate build properties, the tolerance and the probe. Equal keys mean equal results, which
 * is what the journal and the in-context memo rely on.
 */
final class ProbeKeys {
  private final ModelGraph model;
  private final String samplesHash;
  private final ProbeBackends backends;
  private final Tolerance tolerance;
  private String prefix;

  ProbeKeys(
      ModelGraph model,
      List<? extends Map<String, Tensor>> samples,
      ProbeBackends backends,
      Tolerance tolerance) {
    this.model = model;
    this.samplesHash = hashSamples(samples);
    this.backends = backends;
    this.tolerance = tolerance;
  }

  /** The key of {@code spec}. */
  String of(ProbeSpec spec) {
    StringBuilder sb = new StringBuilder(prefix());
    sb.append(spec.kind())
        .append('|')
        .append(spec.side())
        .append('|')
        .append(spec.plan().toJson())
        .append('|')
        // A full run observing the same tensors in another order is the same probe.
        .append(
            spec.kind() == ProbeSpec.Kind.FULL ? new TreeSet<>(spec.observed()) : spec.observed())
        .append('|')
        .append(spec.nodes())
        .append('|')
        .append(spec.cutInputs());
    return Hashing.sha256().hashString(sb, StandardCharsets.UTF_8).toString();
  }

  /** A digest of the run's configuration: what every key shares (the journal's digest line). */
  String digest() {
    return Hashing.sha256().hashString(prefix(), StandardCharsets.UTF_8).toString();
  }

  /** What every key of this context starts with; the model is hashed on first use. */
  private synchronized String prefix() {
    if (prefix == null) {
      prefix =
          model.hash()
              + '|'
              + samplesHash
              + '|'
              + backends.referenceLabel()
              + '|'
              + backends.candidateLabel()
              + '|'
              + new TreeMap<>(backends.candidateOptions().identityProperties())
              + '|'
              + tolerance
              + '|';
    }
    return prefix;
  }

  static String hashSamples(List<? extends Map<String, Tensor>> samples) {
    Hasher h = Hashing.sha256().newHasher();
    for (Map<String, Tensor> s : samples) {
      for (Map.Entry<String, Tensor> e : new TreeMap<>(s).entrySet()) {
        h.putUnencodedChars(e.getKey()).putInt(e.getValue().dtype().onnxCode());
        for (long d : e.getValue().shape()) {
          h.putLong(d);
        }
        h.putBytes(e.getValue().bytes().duplicate());
      }
      h.putChar('|');
    }
    return h.hash().toString().substring(0, 16);
  }
}
