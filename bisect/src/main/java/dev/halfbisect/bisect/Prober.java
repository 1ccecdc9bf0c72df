package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.UnobservableTensorsException;
import dev.halfbisect.core.verdict.Tolerance;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The probe engine shared by all strategies of one {@link BisectContext}: runs the reference
 * (chunked, values cached, see {@link ReferenceValues}), runs candidate probes and compares them
 * with the reference, reads and writes the journal, and counts builds. Candidate builds are what
 * the searches' bounds are about. The context makes it from its parts; it never reads the context.
 */
public final class Prober {
  private static final Logger LOG = LoggerFactory.getLogger(Prober.class);

  static final String REFERENCE_FOLDED = ReferenceValues.FOLDED;
  static final String CANDIDATE_FOLDED =
      "the candidate backend's network has no such tensor after parsing (constant-folded)";

  private final ReferenceValues reference;
  private final ProbeRunner runner;
  private final DecidedProbes decided;
  private final Tolerance tolerance;
  private final BisectListener listener;

  /** Tensors the candidate backend said it cannot observe (e.g. constant-folded by TensorRT). */
  private final Map<String, String> candidateUnavailable = new LinkedHashMap<>();

  private int candidateBuilds;

  Prober(
      ReferenceValues reference,
      ProbeRunner runner,
      DecidedProbes decided,
      Tolerance tolerance,
      BisectListener listener) {
    this.reference = reference;
    this.runner = runner;
    this.decided = decided;
    this.tolerance = tolerance;
    this.listener = listener;
  }

  /** Candidate builds attempted so far (failed builds count; journal hits do not). */
  public int candidateBuilds() {
    return candidateBuilds;
  }

  public int referenceBuilds() {
    return reference.builds();
  }

  /** Candidate probes answered from the journal. */
  public int journalHits() {
    return decided.journalHits();
  }

  /**
   * Tensors the candidate backend cannot observe, with its reason; left out of candidate results.
   */
  public Map<String, String> candidateUnavailable() {
    return ImmutableMap.copyOf(candidateUnavailable);
  }

  /** Tensors the reference could not observe, with the backend's reason. */
  public Map<String, String> referenceUnavailable() {
    return reference.unavailable();
  }

  /**
   * Reference values of {@code tensors} per sample, running the reference (in chunks within the
   * context's byte budget and tensor cap, split on build failure) for those not cached. Tensors the
   * reference cannot observe are left out of the maps and listed in {@link
   * #referenceUnavailable()}.
   */
  public List<Map<String, Tensor>> reference(Collection<String> tensors) {
    return reference.get(tensors);
  }

  /**
   * Runs the reference for those of {@code tensors} not cached and holds their values until the
   * returned scope closes (see {@link ReferenceValues#openScope}); probes made inside the scope
   * compare against them. Use with try-with-resources; scopes do not nest.
   */
  ReferenceScope openScope(Collection<String> tensors) {
    return reference.openScope(tensors);
  }

  /**
   * Runs a candidate probe (or reads it from the journal) and compares each observed tensor with
   * its reference value. Observed tensors without a reference value are left out of the result.
   */
  public ProbeResult probe(ProbeSpec spec) {
    String key = decided.key(spec);
    Optional<ProbeResult> known = decided.inContext(key);
    if (known.isPresent()) {
      return known.get();
    }
    listener.probeStarted(spec);
    Optional<ProbeResult> journaled = decided.inJournal(key, spec);
    if (journaled.isPresent()) {
      LOG.debug("probe {} read from journal: {}", spec.describe(), journaled.get().status());
      listener.probeFinished(journaled.get());
      return journaled.get();
    }
    ProbeResult r = build(spec);
    decided.record(key, r);
    LOG.debug("probe {}: {} (build {} ms)", spec.describe(), r.status(), r.buildTime().toMillis());
    listener.probeFinished(r);
    return r;
  }

  /** Builds and runs {@code spec} on the candidate side and compares it; failures are results. */
  private ProbeResult build(ProbeSpec spec) {
    List<String> needed = new ArrayList<>(spec.observed());
    needed.addAll(spec.cutInputs());
    List<Map<String, Tensor>> ref = reference.get(needed);
    List<Map<String, Tensor>> feeds = reference.feeds(spec.cutInputs(), ref);
    candidateBuilds++;
    try {
      ProbeSpec run = withoutUnobservable(spec, ref);
      ProbeRunner.Outcome o = null;
      while (o == null) {
        try {
          o = runner.run(run, feeds);
        } catch (UnobservableTensorsException e) {
          ProbeSpec fewer = dropUnobservable(run, e);
          if (fewer == null) {
            throw e;
          }
          run = fewer; // the same probe without the tensors the candidate's network folded away
        }
      }
      return compare(spec, run.observed(), o, ref);
    } catch (BackendCrashException e) {
      LOG.warn("candidate probe {} crashed the backend: {}", spec.describe(), e.getMessage());
      return ProbeResult.failed(spec, ProbeResult.Status.CRASH, e.getMessage());
    } catch (BackendException e) {
      LOG.info("candidate probe {} failed to build: {}", spec.describe(), e.getMessage());
      return ProbeResult.failed(spec, ProbeResult.Status.BUILD_FAILED, e.getMessage());
    }
  }

  /** Each observed tensor with a reference value, compared per sample; ALL_NAN when all are. */
  private ProbeResult compare(
      ProbeSpec spec, List<String> observed, ProbeRunner.Outcome o, List<Map<String, Tensor>> ref) {
    ImmutableMap.Builder<String, TensorComparison> cmp = ImmutableMap.builder();
    boolean allNaN = !observed.isEmpty();
    for (String t : observed) {
      if (!ref.get(0).containsKey(t)) {
        continue;
      }
      List<TensorError> per = new ArrayList<>();
      for (int s = 0; s < o.samples().size(); s++) {
        Tensor cand = o.samples().get(s).get(t);
        TensorError e =
            TensorError.measure(
                t, ref.get(s).get(t).toFloatArray(), cand.toFloatArray(), tolerance);
        allNaN &= e.allNaN();
        per.add(e);
      }
      cmp.put(t, TensorComparison.of(t, per));
    }
    return ProbeResult.ran(
        spec,
        allNaN ? ProbeResult.Status.ALL_NAN : ProbeResult.Status.OK,
        cmp.buildKeepingLast(),
        o);
  }

  /**
   * {@code spec} without the tensors known unobservable (no reference value, or the candidate
   * cannot).
   */
  private ProbeSpec withoutUnobservable(ProbeSpec spec, List<Map<String, Tensor>> ref) {
    if (spec.kind() != ProbeSpec.Kind.FULL && spec.kind() != ProbeSpec.Kind.SHADOW) {
      return spec;
    }
    List<String> keep = new ArrayList<>();
    for (String t : spec.observed()) {
      if (!candidateUnavailable.containsKey(t)
          && (spec.kind() == ProbeSpec.Kind.SHADOW || ref.get(0).containsKey(t))) {
        keep.add(t);
      }
    }
    return keep.size() == spec.observed().size() ? spec : withObserved(spec, keep);
  }

  /**
   * Records the tensors a candidate build could not observe and returns the probe without them, or
   * null when that leaves nothing to retry (not a full or shadow probe, or no named tensor in it).
   */
  private ProbeSpec dropUnobservable(ProbeSpec run, UnobservableTensorsException e) {
    if (run.kind() != ProbeSpec.Kind.FULL && run.kind() != ProbeSpec.Kind.SHADOW) {
      return null;
    }
    List<String> keep = new ArrayList<>(run.observed());
    for (String named : e.tensors()) {
      String t =
          run.kind() == ProbeSpec.Kind.SHADOW && named.endsWith(ProbeGraphs.SHADOW_SUFFIX)
              ? named.substring(0, named.length() - ProbeGraphs.SHADOW_SUFFIX.length())
              : named;
      if (keep.remove(t)) {
        candidateUnavailable.put(t, CANDIDATE_FOLDED);
      }
    }
    if (keep.size() == run.observed().size()) {
      return null;
    }
    LOG.info(
        "candidate cannot observe {} of {} tensors (constant-folded); building without them",
        run.observed().size() - keep.size(),
        run.observed().size());
    return withObserved(run, keep);
  }

  private static ProbeSpec withObserved(ProbeSpec s, List<String> observed) {
    return new ProbeSpec(
        s.kind(), s.side(), s.plan(), ImmutableList.copyOf(observed), s.nodes(), s.cutInputs());
  }

  /** Whether {@code spec} is answered without a build (decided in this context or journaled). */
  public boolean isDecided(ProbeSpec spec) {
    return decided.contains(spec);
  }

  /** Comparisons gathered over several chunked probes, and what could not be observed. */
  public record Chunked(
      ImmutableMap<String, TensorComparison> tensors, ImmutableMap<String, String> unobserved) {}

  /**
   * Probes each of {@code chunks} (see {@link ObservationChunks}); when a chunk's build fails or
   * crashes it is split in halves and retried, down to single items, which are then reported as
   * unobserved with the backend's message.
   */
  Chunked chunked(List<List<String>> chunks, Function<List<String>, ProbeSpec> specFor) {
    Map<String, TensorComparison> got = new LinkedHashMap<>();
    Map<String, String> missed = new LinkedHashMap<>();
    for (List<String> c : chunks) {
      chunk(c, specFor, got, missed);
    }
    return new Chunked(ImmutableMap.copyOf(got), ImmutableMap.copyOf(missed));
  }

  private void chunk(
      List<String> items,
      Function<List<String>, ProbeSpec> specFor,
      Map<String, TensorComparison> got,
      Map<String, String> missed) {
    ProbeResult r = probe(specFor.apply(items));
    if (r.status() == ProbeResult.Status.BUILD_FAILED || r.status() == ProbeResult.Status.CRASH) {
      if (items.size() == 1) {
        missed.put(items.get(0), r.status() + ": " + r.message());
        return;
      }
      int half = items.size() / 2;
      chunk(items.subList(0, half), specFor, got, missed);
      chunk(items.subList(half, items.size()), specFor, got, missed);
      return;
    }
    got.putAll(r.tensors());
  }

  static ImmutableList<String> floatInputs(
      ModelGraph g, dev.halfbisect.onnx.proto.Onnx.NodeProto n) {
    return n.getInputList().stream()
        .filter(
            i -> !i.isEmpty() && !g.isInitializer(i) && g.isFloat(i) && g.producer(i).isPresent())
        .distinct()
        .collect(ImmutableList.toImmutableList());
  }
}
