package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.hash.Hashing;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.UnobservableTensorsException;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The probe engine shared by all strategies of one {@link BisectContext}: runs the reference
 * (chunked, values cached), runs candidate probes and compares them with the reference, reads and
 * writes the journal, and counts builds. Candidate builds are what the searches' bounds are about.
 */
public final class Prober {
  private static final Logger LOG = LoggerFactory.getLogger(Prober.class);

  static final String REFERENCE_FOLDED =
      "the reference backend's network has no such tensor after parsing" + " (constant-folded)";
  static final String CANDIDATE_FOLDED =
      "the candidate backend's network has no such tensor after parsing" + " (constant-folded)";

  private final BisectContext ctx;
  private final List<Map<String, Tensor>> referenceCache = new ArrayList<>();
  private final Map<String, String> referenceUnavailable = new LinkedHashMap<>();

  /** Tensors the candidate backend said it cannot observe (e.g. constant-folded by TensorRT). */
  private final Map<String, String> candidateUnavailable = new LinkedHashMap<>();

  /**
   * Reference values held only for the current scope (a layerwise chunk), never cached; null
   * outside a scope.
   */
  private List<Map<String, Tensor>> scoped;

  private List<String> scopedOrder;

  /** Bytes of reference values moved from scopes into the shared cache (bounded by the context). */
  private long retainedBytes;

  private int candidateBuilds;
  private int referenceBuilds;
  private int journalHits;
  private final Map<String, ProbeResult> decided = new HashMap<>();

  Prober(BisectContext ctx) {
    this.ctx = ctx;
    for (Map<String, Tensor> s : ctx.samples()) {
      referenceCache.add(new HashMap<>(s)); // graph inputs are their own reference
    }
  }

  /** Candidate builds attempted so far (failed builds count; journal hits do not). */
  public int candidateBuilds() {
    return candidateBuilds;
  }

  public int referenceBuilds() {
    return referenceBuilds;
  }

  /** Candidate probes answered from the journal. */
  public int journalHits() {
    return journalHits;
  }

  /**
   * Tensors the candidate backend cannot observe, with its reason; left out of candidate results.
   */
  public Map<String, String> candidateUnavailable() {
    return ImmutableMap.copyOf(candidateUnavailable);
  }

  /** Tensors the reference could not observe, with the backend's reason. */
  public Map<String, String> referenceUnavailable() {
    return ImmutableMap.copyOf(referenceUnavailable);
  }

  /**
   * Reference values of {@code tensors} per sample, running the reference (in chunks within the
   * context's byte budget and tensor cap, split on build failure) for those not cached. Tensors the
   * reference cannot observe are left out of the maps and listed in {@link
   * #referenceUnavailable()}.
   */
  public List<Map<String, Tensor>> reference(Collection<String> tensors) {
    List<String> missing = missing(tensors);
    if (!missing.isEmpty()) {
      ctx.listener().phase("reference");
      for (List<String> chunk : ctx.chunks().tensors(missing)) {
        referenceChunk(chunk, referenceCache);
      }
    }
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (int s = 0; s < referenceCache.size(); s++) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      for (String t : tensors) {
        Tensor v = referenceCache.get(s).get(t);
        if (v == null && scoped != null) {
          v = scoped.get(s).get(t);
        }
        if (v != null) {
          m.put(t, v);
        }
      }
      out.add(m);
    }
    return out;
  }

  private List<String> missing(Collection<String> tensors) {
    Set<String> missing =
        new LinkedHashSet<>(); // a set: a list's contains() is quadratic at 100k tensors
    for (String t : tensors) {
      if (!referenceCache.get(0).containsKey(t)
          && (scoped == null || !scoped.get(0).containsKey(t))
          && !referenceUnavailable.containsKey(t)) {
        missing.add(t);
      }
    }
    return new ArrayList<>(missing);
  }

  /**
   * Runs the reference for those of {@code tensors} not cached and holds their values only until
   * {@link #endScope()}, outside the shared cache: layerwise compares every tensor once, so keeping
   * them all would hold every activation of the model at once. Probes made inside the scope compare
   * against these values. Scopes do not nest.
   */
  void beginScope(Collection<String> tensors) {
    Preconditions.checkState(scoped == null, "a reference scope is already open");
    scoped = new ArrayList<>();
    scopedOrder = List.copyOf(tensors);
    for (int s = 0; s < referenceCache.size(); s++) {
      scoped.add(new HashMap<>());
    }
    List<String> missing = missing(tensors);
    if (!missing.isEmpty()) {
      ctx.listener().phase("reference");
      for (List<String> chunk : ctx.chunks().tensors(missing)) {
        referenceChunk(chunk, scoped);
      }
    }
  }

  /**
   * Ends the scope: its values move into the shared cache, in the scope's order, while they fit in
   * the context's {@link BisectContext#referenceCacheBytes() reference cache budget}; the rest are
   * dropped. Later strategies (amplification after layerwise in a diagnosis) then reuse them.
   */
  void endScope() {
    for (String t : scopedOrder) {
      if (!scoped.get(0).containsKey(t)) {
        continue;
      }
      long bytes = 0;
      for (Map<String, Tensor> sample : scoped) {
        Tensor v = sample.get(t);
        bytes += v == null ? 0 : v.size() * v.dtype().byteSize();
      }
      if (retainedBytes + bytes > ctx.referenceCacheBytes()) {
        break;
      }
      retainedBytes += bytes;
      for (int s = 0; s < scoped.size(); s++) {
        Tensor v = scoped.get(s).get(t);
        if (v != null) {
          referenceCache.get(s).put(t, v);
        }
      }
    }
    scoped = null;
    scopedOrder = null;
  }

  private void referenceChunk(List<String> chunk, List<Map<String, Tensor>> target) {
    ProbeSpec spec = ProbeSpec.full(ProbeSpec.Side.REFERENCE, PrecisionPlan.allFp32(), chunk);
    ctx.listener().probeStarted(spec);
    referenceBuilds++;
    try {
      ProbeRunner.Outcome o = ctx.runner().run(spec, new ArrayList<>(ctx.samples()));
      for (int s = 0; s < o.samples().size(); s++) {
        target.get(s).putAll(o.samples().get(s));
      }
      ctx.listener()
          .probeFinished(
              new ProbeResult(
                  spec,
                  ProbeResult.Status.OK,
                  "",
                  ImmutableMap.of(),
                  o.buildTime(),
                  o.runTime(),
                  false));
    } catch (UnobservableTensorsException e) {
      // The network has no such tensors (constant-folded): drop them and observe the rest.
      List<String> rest = new ArrayList<>(chunk);
      for (String t : e.tensors()) {
        if (rest.remove(t)) {
          referenceUnavailable.put(t, REFERENCE_FOLDED);
        }
      }
      if (rest.size() < chunk.size()) {
        LOG.info(
            "reference cannot observe {} of {} tensors (constant-folded); observing the rest",
            chunk.size() - rest.size(),
            chunk.size());
        if (!rest.isEmpty()) {
          referenceChunk(rest, target);
        }
        return;
      }
      splitReferenceChunk(chunk, target, e);
    } catch (BackendException e) {
      splitReferenceChunk(chunk, target, e);
    }
  }

  private void splitReferenceChunk(
      List<String> chunk, List<Map<String, Tensor>> target, BackendException e) {
    if (chunk.size() == 1) {
      LOG.warn("reference cannot observe tensor {}: {}", chunk.get(0), e.getMessage());
      referenceUnavailable.put(chunk.get(0), e.getMessage());
      return;
    }
    LOG.info(
        "reference build observing {} tensors failed ({}); splitting",
        chunk.size(),
        e.getMessage());
    int half = chunk.size() / 2;
    referenceChunk(chunk.subList(0, half), target);
    referenceChunk(chunk.subList(half, chunk.size()), target);
  }

  /**
   * Runs a candidate probe (or reads it from the journal) and compares each observed tensor with
   * its reference value. Observed tensors without a reference value are left out of the result.
   */
  public ProbeResult probe(ProbeSpec spec) {
    String key = key(spec);
    ProbeResult known = decided.get(key);
    if (known != null) {
      return known; // decided earlier in this context: same model, samples and probe
    }
    ctx.listener().probeStarted(spec);
    Optional<ProbeJournal.Entry> journaled = ctx.journal().flatMap(j -> j.get(key));
    if (journaled.isPresent()) {
      journalHits++;
      ProbeResult r = ProbeJournal.toResult(spec, journaled.get());
      decided.put(key, r);
      LOG.debug("probe {} read from journal: {}", spec.describe(), r.status());
      ctx.listener().probeFinished(r);
      return r;
    }
    List<String> needed = new ArrayList<>(spec.observed());
    needed.addAll(spec.cutInputs());
    List<Map<String, Tensor>> ref = reference(needed);
    List<Map<String, Tensor>> feeds = new ArrayList<>();
    for (int s = 0; s < ctx.samples().size(); s++) {
      Map<String, Tensor> f = new HashMap<>(ctx.samples().get(s));
      for (String c : spec.cutInputs()) {
        Tensor v = ref.get(s).get(c);
        if (v == null) {
          throw new IllegalStateException(
              "no reference value for cut input '" + c + "': " + referenceUnavailable.get(c));
        }
        f.put(c, v);
      }
      feeds.add(f);
    }
    candidateBuilds++;
    ProbeResult result;
    try {
      ProbeRunner.Outcome o = null;
      ProbeSpec run = withoutUnobservable(spec, ref);
      while (o == null) {
        try {
          o = ctx.runner().run(run, feeds);
        } catch (UnobservableTensorsException e) {
          ProbeSpec fewer = dropUnobservable(run, e);
          if (fewer == null) {
            throw e;
          }
          run = fewer; // the same probe without the tensors the candidate's network folded away
        }
      }
      ImmutableMap.Builder<String, TensorComparison> cmp = ImmutableMap.builder();
      boolean allNaN = !run.observed().isEmpty();
      for (String t : run.observed()) {
        if (!ref.get(0).containsKey(t)) {
          continue;
        }
        List<TensorError> per = new ArrayList<>();
        for (int s = 0; s < o.samples().size(); s++) {
          Tensor cand = o.samples().get(s).get(t);
          TensorError e =
              TensorError.measure(
                  t, ref.get(s).get(t).toFloatArray(), cand.toFloatArray(), ctx.tolerance());
          allNaN &= e.allNaN();
          per.add(e);
        }
        cmp.put(t, TensorComparison.of(t, per));
      }
      result =
          new ProbeResult(
              spec,
              allNaN ? ProbeResult.Status.ALL_NAN : ProbeResult.Status.OK,
              "",
              cmp.buildKeepingLast(),
              o.buildTime(),
              o.runTime(),
              false);
    } catch (BackendCrashException e) {
      LOG.warn("candidate probe {} crashed the backend: {}", spec.describe(), e.getMessage());
      result =
          new ProbeResult(
              spec,
              ProbeResult.Status.CRASH,
              e.getMessage(),
              ImmutableMap.of(),
              Duration.ZERO,
              Duration.ZERO,
              false);
    } catch (BackendException e) {
      LOG.info("candidate probe {} failed to build: {}", spec.describe(), e.getMessage());
      result =
          new ProbeResult(
              spec,
              ProbeResult.Status.BUILD_FAILED,
              e.getMessage(),
              ImmutableMap.of(),
              Duration.ZERO,
              Duration.ZERO,
              false);
    }
    ProbeResult r = result;
    decided.put(key, r);
    ctx.journal().ifPresent(j -> j.record(key, ctx.model().name(), r));
    LOG.debug("probe {}: {} (build {} ms)", spec.describe(), r.status(), r.buildTime().toMillis());
    ctx.listener().probeFinished(r);
    return r;
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
    String key = key(spec);
    return decided.containsKey(key) || ctx.journal().flatMap(j -> j.get(key)).isPresent();
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

  /** Deterministic key: model, samples, both backends and modes, tolerance and the probe. */
  String key(ProbeSpec spec) {
    StringBuilder sb = new StringBuilder();
    sb.append(ctx.model().hash())
        .append('|')
        .append(ctx.samplesHash())
        .append('|')
        .append(ctx.reference().name())
        .append(':')
        .append(ctx.referenceOptions().mode())
        .append('|')
        .append(ctx.candidate().name())
        .append(':')
        .append(ctx.candidateOptions().mode())
        .append('|')
        .append(new java.util.TreeMap<>(ctx.candidateOptions().properties()))
        .append('|')
        .append(ctx.tolerance())
        .append('|')
        .append(spec.kind())
        .append('|')
        .append(spec.side())
        .append('|')
        .append(spec.plan().toJson())
        .append('|')
        // A full run observing the same tensors in another order is the same probe.
        .append(
            spec.kind() == ProbeSpec.Kind.FULL
                ? new java.util.TreeSet<>(spec.observed())
                : spec.observed())
        .append('|')
        .append(spec.nodes())
        .append('|')
        .append(spec.cutInputs());
    return Hashing.sha256().hashString(sb, StandardCharsets.UTF_8).toString();
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
