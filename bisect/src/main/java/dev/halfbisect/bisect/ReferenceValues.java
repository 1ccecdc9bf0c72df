package dev.halfbisect.bisect;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.UnobservableTensorsException;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Golden values per sample: runs the reference in chunks (split on build failure) for the tensors
 * not held yet, and holds them in a shared cache or, inside a {@link ReferenceScope}, only until
 * the scope closes. Graph inputs are their own reference.
 */
final class ReferenceValues {
  private static final Logger LOG = LoggerFactory.getLogger(ReferenceValues.class);

  static final String FOLDED =
      "the reference backend's network has no such tensor after parsing (constant-folded)";

  private final ProbeRunner runner;
  private final ObservationChunks chunks;
  private final ImmutableList<ImmutableMap<String, Tensor>> samples;
  private final BisectListener listener;
  private final long cacheBytes;
  private final List<Map<String, Tensor>> cache = new ArrayList<>();
  private final Map<String, String> unavailable = new LinkedHashMap<>();

  /** The open scope, or null: its values are held only until it closes, never cached. */
  private ReferenceScope scope;

  /** Bytes of reference values moved from scopes into the shared cache (at most cacheBytes). */
  private long retainedBytes;

  private int builds;

  /**
   * @param cacheBytes bytes of scoped values that may move into the shared cache, over all samples
   */
  ReferenceValues(
      ProbeRunner runner,
      ObservationChunks chunks,
      ImmutableList<ImmutableMap<String, Tensor>> samples,
      BisectListener listener,
      long cacheBytes) {
    this.runner = runner;
    this.chunks = chunks;
    this.samples = samples;
    this.listener = listener;
    this.cacheBytes = cacheBytes;
    for (Map<String, Tensor> s : samples) {
      cache.add(new HashMap<>(s)); // graph inputs are their own reference
    }
  }

  int builds() {
    return builds;
  }

  /** Holds {@code known} (per sample) as if the reference had computed it: never run for them. */
  void preload(List<? extends Map<String, Tensor>> known) {
    for (int s = 0; s < known.size() && s < cache.size(); s++) {
      known.get(s).forEach(cache.get(s)::putIfAbsent);
    }
  }

  /** Tensors the reference could not observe, with the backend's reason. */
  Map<String, String> unavailable() {
    return ImmutableMap.copyOf(unavailable);
  }

  /** Why the reference could not observe {@code tensor}, or null. */
  String whyUnavailable(String tensor) {
    return unavailable.get(tensor);
  }

  /**
   * Values of {@code tensors} per sample, running the reference for those not held; tensors the
   * reference cannot observe are left out of the maps.
   */
  List<Map<String, Tensor>> get(Collection<String> tensors) {
    run(missing(tensors), cache);
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (int s = 0; s < cache.size(); s++) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      for (String t : tensors) {
        Tensor v = cache.get(s).get(t);
        if (v == null && scope != null) {
          v = scope.values.get(s).get(t);
        }
        if (v != null) {
          m.put(t, v);
        }
      }
      out.add(m);
    }
    return out;
  }

  /**
   * The samples as a probe's feeds: per sample the graph inputs plus the golden values of {@code
   * cutInputs}, taken from {@code reference} (as {@link #get} returned them).
   */
  List<Map<String, Tensor>> feeds(List<String> cutInputs, List<Map<String, Tensor>> reference) {
    List<Map<String, Tensor>> feeds = new ArrayList<>();
    for (int s = 0; s < samples.size(); s++) {
      Map<String, Tensor> f = new HashMap<>(samples.get(s));
      for (String c : cutInputs) {
        Tensor v = reference.get(s).get(c);
        if (v == null) {
          throw new IllegalStateException(
              "no reference value for cut input '" + c + "': " + unavailable.get(c));
        }
        f.put(c, v);
      }
      feeds.add(f);
    }
    return feeds;
  }

  /**
   * Runs the reference for those of {@code tensors} not held and keeps their values only until the
   * scope closes, outside the shared cache: layerwise compares every tensor once, so keeping them
   * all would hold every activation of the model at once. Scopes do not nest.
   */
  ReferenceScope openScope(Collection<String> tensors) {
    Preconditions.checkState(scope == null, "a reference scope is already open");
    ReferenceScope s = new ReferenceScope(this, tensors, cache.size());
    List<String> missing = missing(tensors);
    scope = s;
    run(missing, s.values);
    return s;
  }

  /**
   * Ends {@code s}: its values move into the shared cache, in the scope's order, while they fit in
   * the cache budget; the rest are dropped. Later strategies (amplification after layerwise in a
   * diagnosis) then reuse them.
   */
  void close(ReferenceScope s) {
    Preconditions.checkState(scope == s, "this reference scope is not open");
    for (String t : s.order) {
      if (!s.values.get(0).containsKey(t)) {
        continue;
      }
      long bytes = 0;
      for (Map<String, Tensor> sample : s.values) {
        Tensor v = sample.get(t);
        bytes += v == null ? 0 : v.size() * v.dtype().byteSize();
      }
      if (retainedBytes + bytes > cacheBytes) {
        break;
      }
      retainedBytes += bytes;
      for (int i = 0; i < s.values.size(); i++) {
        Tensor v = s.values.get(i).get(t);
        if (v != null) {
          cache.get(i).put(t, v);
        }
      }
    }
    scope = null;
  }

  private List<String> missing(Collection<String> tensors) {
    Set<String> missing = new LinkedHashSet<>(); // a set: a list's contains() is quadratic at 100k
    for (String t : tensors) {
      if (!cache.get(0).containsKey(t)
          && (scope == null || !scope.values.get(0).containsKey(t))
          && !unavailable.containsKey(t)) {
        missing.add(t);
      }
    }
    return new ArrayList<>(missing);
  }

  /** Observes {@code missing} in chunks within the budget, into {@code target}. */
  private void run(List<String> missing, List<Map<String, Tensor>> target) {
    if (missing.isEmpty()) {
      return;
    }
    listener.phase("reference");
    for (List<String> chunk : chunks.tensors(missing)) {
      runChunk(chunk, target);
    }
  }

  private void runChunk(List<String> chunk, List<Map<String, Tensor>> target) {
    ProbeSpec spec = ProbeSpec.full(ProbeSpec.Side.REFERENCE, PrecisionPlan.allFp32(), chunk);
    listener.probeStarted(spec);
    builds++;
    try {
      ProbeRunner.Outcome o = runner.run(spec, new ArrayList<>(samples));
      for (int s = 0; s < o.samples().size(); s++) {
        target.get(s).putAll(o.samples().get(s));
      }
      listener.probeFinished(ProbeResult.ran(spec, ProbeResult.Status.OK, ImmutableMap.of(), o));
    } catch (UnobservableTensorsException e) {
      List<String> rest = withoutFolded(chunk, e);
      if (rest.size() < chunk.size()) {
        if (!rest.isEmpty()) {
          runChunk(rest, target);
        }
        return;
      }
      split(chunk, target, e);
    } catch (BackendException e) {
      split(chunk, target, e);
    }
  }

  /** {@code chunk} without the tensors the reference's network has not (constant-folded). */
  private List<String> withoutFolded(List<String> chunk, UnobservableTensorsException e) {
    List<String> rest = new ArrayList<>(chunk);
    for (String t : e.tensors()) {
      if (rest.remove(t)) {
        unavailable.put(t, FOLDED);
      }
    }
    if (rest.size() < chunk.size()) {
      LOG.info(
          "reference cannot observe {} of {} tensors (constant-folded); observing the rest",
          chunk.size() - rest.size(),
          chunk.size());
    }
    return rest;
  }

  private void split(List<String> chunk, List<Map<String, Tensor>> target, BackendException e) {
    if (chunk.size() == 1) {
      LOG.warn("reference cannot observe tensor {}: {}", chunk.get(0), e.getMessage());
      unavailable.put(chunk.get(0), e.getMessage());
      return;
    }
    LOG.info(
        "reference build observing {} tensors failed ({}); splitting",
        chunk.size(),
        e.getMessage());
    int half = chunk.size() / 2;
    runChunk(chunk.subList(0, half), target);
    runChunk(chunk.subList(half, chunk.size()), target);
  }
}
