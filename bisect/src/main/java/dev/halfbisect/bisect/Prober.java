package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendCrashException;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.UnobservableTensorsException;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The probe engine shared by all strategies of one {@link BisectContext}: runs the reference
 * (chunked, values cached, see {@link ReferenceValues}), runs candidate probes and compares them
 * with the reference, reads and writes the journal, and counts builds. Candidate builds are what
 * the searches' bounds are about. The context makes it from its parts; it never reads the context.
 *
 * <p><b>Parallel probes (issue 18).</b> {@link #probeAll} builds the undecided probes of one round
 * on up to {@code parallelism} threads at once (each a backend session of its own: ORT sessions and
 * TensorRT worker pools are safe for that). Reference values are fetched for the whole round first,
 * on the calling thread; the memo, the journal, the counters and the listener are guarded, so the
 * listener sees one event at a time. {@link #rounds()} counts the waves of builds run at once.
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
  private final int parallelism;

  /** Tensors the candidate backend said it cannot observe (e.g. constant-folded by TensorRT). */
  private final Map<String, String> candidateUnavailable =
      Collections.synchronizedMap(new LinkedHashMap<>());

  private final AtomicInteger candidateBuilds = new AtomicInteger();
  private volatile String cancelled; // why no more probes may run (null: they may)
  // The most items a chunked build observes, learnt when a failed chunk's halves both built.
  private volatile int chunkCap = Integer.MAX_VALUE;
  // what the backend said about the last full candidate build of each plan (TensorRT's warnings,
  // its plan check): reports show the notes of the plan they answer with
  private final Map<PrecisionPlan, ImmutableList<String>> buildNotes =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final AtomicInteger rounds = new AtomicInteger();

  Prober(
      ReferenceValues reference,
      ProbeRunner runner,
      DecidedProbes decided,
      Tolerance tolerance,
      BisectListener listener) {
    this(reference, runner, decided, tolerance, listener, 1);
  }

  /**
   * @param parallelism candidate probes of one round built at once (1: one after the other)
   */
  Prober(
      ReferenceValues reference,
      ProbeRunner runner,
      DecidedProbes decided,
      Tolerance tolerance,
      BisectListener listener,
      int parallelism) {
    this.reference = reference;
    this.runner = runner;
    this.decided = decided;
    this.tolerance = tolerance;
    this.listener = new GuardedListener(listener);
    this.parallelism = Math.max(1, parallelism);
  }

  /** Candidate builds attempted so far (failed builds count; journal hits do not). */
  public int candidateBuilds() {
    return candidateBuilds.get();
  }

  /**
   * Rounds of candidate builds so far: waves of builds that ran at once, {@code ceil(n /
   * parallelism)} for a {@link #probeAll} that built {@code n} probes. With parallelism 1 this is
   * the build count.
   */
  public int rounds() {
    return rounds.get();
  }

  /** Candidate probes one round may build at once. */
  public int parallelism() {
    return parallelism;
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
    synchronized (candidateUnavailable) {
      return ImmutableMap.copyOf(candidateUnavailable);
    }
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
   * Stops this prober: from the next round on, {@link #probeAll} throws {@link
   * ProbesCancelledException} with {@code why} (builds in flight finish). For a search started
   * ahead of a result that may make it moot (emulation first's head start, issue 18); callable from
   * any thread.
   */
  public void cancel(String why) {
    cancelled = java.util.Objects.requireNonNull(why, "why");
  }

  /**
   * Runs a candidate probe (or reads it from the journal) and compares each observed tensor with
   * its reference value. Observed tensors without a reference value are left out of the result.
   */
  public ProbeResult probe(ProbeSpec spec) {
    return probeAll(List.of(spec)).get(0);
  }

  /**
   * Runs one round of independent candidate probes: those decided (in this context or the journal)
   * are answered at once, the others are built on up to {@link #parallelism()} threads at once.
   * Results come back in the order of {@code specs}; equal probes are built once.
   */
  public List<ProbeResult> probeAll(List<ProbeSpec> specs) {
    String why = cancelled;
    if (why != null) {
      throw new ProbesCancelledException(why);
    }
    ProbeResult[] out = new ProbeResult[specs.size()];
    Map<String, List<Integer>> toBuild = new LinkedHashMap<>();
    Map<String, ProbeSpec> specOf = new LinkedHashMap<>();
    for (int i = 0; i < specs.size(); i++) {
      ProbeSpec spec = specs.get(i);
      String key = decided.key(spec);
      if (toBuild.containsKey(key)) {
        toBuild.get(key).add(i);
        continue;
      }
      Optional<ProbeResult> known = decided.inContext(key);
      if (known.isPresent()) {
        out[i] = known.get();
        continue;
      }
      Optional<ProbeResult> journaled = decided.inJournal(key, spec);
      if (journaled.isPresent()) {
        LOG.debug("probe {} read from journal: {}", spec.describe(), journaled.get().status());
        listener.probeStarted(spec);
        listener.probeFinished(journaled.get());
        out[i] = journaled.get();
        continue;
      }
      toBuild.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
      specOf.put(key, spec);
    }
    if (toBuild.isEmpty()) {
      return List.of(out);
    }
    // The round's golden values first, on this thread: builds then only read the cache.
    Set<String> needed = new LinkedHashSet<>();
    for (ProbeSpec spec : specOf.values()) {
      needed.addAll(spec.observed());
      needed.addAll(spec.cutInputs());
    }
    reference.get(needed);
    rounds.addAndGet((specOf.size() + parallelism - 1) / parallelism);
    List<String> keys = new ArrayList<>(specOf.keySet());
    List<ProbeResult> built = buildAll(keys.stream().map(specOf::get).toList());
    for (int k = 0; k < keys.size(); k++) {
      ProbeResult r = built.get(k);
      LOG.debug(
          "probe {}: {} (build {} ms)", r.spec().describe(), r.status(), r.buildTime().toMillis());
      for (int i : toBuild.get(keys.get(k))) {
        out[i] = r;
      }
    }
    return List.of(out);
  }

  /** Builds {@code specs}, at most {@link #parallelism} at once, results in order. */
  private List<ProbeResult> buildAll(List<ProbeSpec> specs) {
    if (parallelism == 1 || specs.size() == 1) {
      return specs.stream().map(this::build).toList();
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.min(parallelism, specs.size()),
            r -> {
              Thread t = new Thread(r, "halfbisect-probe");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<ProbeResult>> futures = new ArrayList<>();
      for (ProbeSpec s : specs) {
        futures.add(pool.submit(() -> build(s)));
      }
      List<ProbeResult> results = new ArrayList<>();
      for (Future<ProbeResult> f : futures) {
        results.add(f.get());
      }
      return results;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for parallel probes", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * What the backend said about the last full candidate build under {@code plan} in this run (empty
   * when none was built here, e.g. every probe came from the journal).
   */
  public ImmutableList<String> buildNotes(PrecisionPlan plan) {
    return buildNotes.getOrDefault(plan, ImmutableList.of());
  }

  /** Builds and runs {@code spec} on the candidate side and compares it; failures are results. */
  private ProbeResult build(ProbeSpec spec) {
    // announced when it starts and when it ends, not when its round is planned and done: with
    // --jobs 1 a round of four showed four builds started at once, then built them one by one
    listener.probeStarted(spec);
    ProbeResult r = buildAndCompare(spec);
    decided.record(decided.key(spec), r); // journaled before a listener hears of it
    listener.probeFinished(r);
    return r;
  }

  private ProbeResult buildAndCompare(ProbeSpec spec) {
    List<String> needed = new ArrayList<>(spec.observed());
    needed.addAll(spec.cutInputs());
    List<Map<String, Tensor>> ref = reference.get(needed);
    List<Map<String, Tensor>> feeds = reference.feeds(spec.cutInputs(), ref);
    candidateBuilds.incrementAndGet();
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
      if (spec.kind() == ProbeSpec.Kind.FULL && !o.buildNotes().isEmpty()) {
        buildNotes.put(spec.plan(), o.buildNotes());
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

  /**
   * The most tensors (or shadowed nodes) a chunked build of this context observes, learnt from
   * builds that failed for their size ({@link #chunked}); empty until one did.
   */
  public OptionalInt chunkCap() {
    int c = chunkCap;
    return c == Integer.MAX_VALUE ? OptionalInt.empty() : OptionalInt.of(c);
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
   *
   * <p>Some builds fail for their size alone (TensorRT finding no tactic for a network with many
   * marked outputs: Swin-T on TensorRT 10.6 built with 23 observed tensors and not with 185). When
   * both halves of a chunk whose build failed (not crashed) build, their size becomes the most a
   * build observes from then on (in this and later calls: {@link #chunkCap}), and the chunks not
   * yet built are split to it up front instead of each failing on its own first. A failure that one
   * half inherits (a tensor that cannot be observed) teaches nothing. So that this is learnt early,
   * the first round and every round after a failure hold at most the prober's parallelism of
   * chunks, the halves of a failed chunk first.
   */
  Chunked chunked(List<List<String>> chunks, Function<List<String>, ProbeSpec> specFor) {
    Map<String, TensorComparison> got = new LinkedHashMap<>();
    Map<String, String> missed = new LinkedHashMap<>();
    List<Piece> pending = new ArrayList<>();
    chunks.forEach(c -> pending.add(new Piece(c, -1, 0)));
    Map<Integer, Integer> builtHalves = new LinkedHashMap<>();
    splitTo(pending, chunkCap);
    boolean failed = false;
    boolean first = true;
    int pairs = 0;
    while (!pending.isEmpty()) {
      int size = first || failed ? Math.min(parallelism(), pending.size()) : pending.size();
      List<Piece> round = new ArrayList<>(pending.subList(0, size));
      pending.subList(0, size).clear();
      first = false;
      List<ProbeResult> results =
          probeAll(round.stream().map(c -> specFor.apply(c.items())).toList());
      List<Piece> halves = new ArrayList<>();
      for (int i = 0; i < round.size(); i++) {
        Piece c = round.get(i);
        ProbeResult r = results.get(i);
        if (r.status() == ProbeResult.Status.BUILD_FAILED
            || r.status() == ProbeResult.Status.CRASH) {
          failed = true;
          if (c.items().size() == 1) {
            missed.put(c.items().get(0), r.status() + ": " + r.message());
          } else {
            // a crash may be the worker's alone (an aborted JVM): only a build failure teaches
            int pair = r.status() == ProbeResult.Status.BUILD_FAILED ? pairs++ : -1;
            int n = c.items().size();
            EvenSplit.parts(c.items(), 2).forEach(h -> halves.add(new Piece(h, pair, n)));
          }
        } else {
          got.putAll(r.tensors());
          Integer sibling = c.pair() < 0 ? null : builtHalves.put(c.pair(), c.items().size());
          if (sibling != null) {
            int learnt = Math.max(sibling, c.items().size());
            if (learnt < chunkCap) {
              chunkCap = learnt;
              LOG.warn(
                  "a build observing {} failed and both its halves built: at most {} a build from"
                      + " here (--observe-max sets a cap up front)",
                  c.parentSize(),
                  learnt);
            }
          }
        }
      }
      pending.addAll(0, halves);
      splitTo(pending, chunkCap);
    }
    return new Chunked(ImmutableMap.copyOf(got), ImmutableMap.copyOf(missed));
  }

  /**
   * A chunk of items to observe; {@code pair} names the failed chunk of {@code parentSize} items it
   * is a half of, or is -1.
   */
  private record Piece(List<String> items, int pair, int parentSize) {}

  /** Splits every piece of {@code pending} larger than {@code cap} into near-equal pieces. */
  private static void splitTo(List<Piece> pending, int cap) {
    for (int i = 0; i < pending.size(); i++) {
      List<String> items = pending.get(i).items();
      if (items.size() > cap) {
        List<Piece> split = new ArrayList<>();
        EvenSplit.atMost(items, cap).forEach(p -> split.add(new Piece(p, -1, 0)));
        pending.remove(i);
        pending.addAll(i, split);
        i += split.size() - 1;
      }
    }
  }

  /** The listener, called by one thread at a time. */
  private static final class GuardedListener implements BisectListener {
    private final BisectListener target;

    GuardedListener(BisectListener target) {
      this.target = target;
    }

    @Override
    public synchronized void phase(String name) {
      target.phase(name);
    }

    @Override
    public synchronized void probeStarted(ProbeSpec spec) {
      target.probeStarted(spec);
    }

    @Override
    public synchronized void probeFinished(ProbeResult result) {
      target.probeFinished(result);
    }
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
