package dev.halfbisect.bisect;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Candidate probes already decided, by {@link ProbeKeys key}: those of this context (memoised) and
 * those of the journal, if any; newly built results are appended to the journal.
 */
final class DecidedProbes {
  private final ProbeKeys keys;
  private final Optional<ProbeJournal> journal;
  private final String modelName;
  private final Map<String, ProbeResult> decided = new HashMap<>();
  private int journalHits;

  /**
   * @param modelName the model name journal entries carry
   */
  DecidedProbes(ProbeKeys keys, Optional<ProbeJournal> journal, String modelName) {
    this.keys = keys;
    this.journal = journal;
    this.modelName = modelName;
    journal.ifPresent(j -> j.bind(keys.digest()));
  }

  String key(ProbeSpec spec) {
    return keys.of(spec);
  }

  /** The result decided earlier in this context: same model, samples and probe. */
  Optional<ProbeResult> inContext(String key) {
    return Optional.ofNullable(decided.get(key));
  }

  /** The journal's result for {@code spec}, remembered for this context. */
  Optional<ProbeResult> inJournal(String key, ProbeSpec spec) {
    Optional<ProbeResult> r =
        journal.flatMap(j -> j.get(key)).map(e -> ProbeJournal.toResult(spec, e));
    r.ifPresent(
        result -> {
          journalHits++;
          decided.put(key, result);
        });
    return r;
  }

  /** Remembers a built result and appends it to the journal. */
  void record(String key, ProbeResult r) {
    decided.put(key, r);
    journal.ifPresent(j -> j.record(key, modelName, r));
  }

  /** Whether {@code spec} is answered without a build. */
  boolean contains(ProbeSpec spec) {
    String key = key(spec);
    return decided.containsKey(key) || journal.flatMap(j -> j.get(key)).isPresent();
  }

  int journalHits() {
    return journalHits;
  }
}
