package dev.halfbisect.bisect;

/**
 * Progress of an analysis, for a progress bar. All methods have empty defaults; they are called on
 * the analysing thread.
 */
public interface BisectListener {
  /** No-op listener. */
  BisectListener NONE = new BisectListener() {};

  /** A strategy starts a phase ({@code "reference"}, {@code "layerwise"}, ...). */
  default void phase(String name) {}

  /**
   * The current phase makes at most {@code candidateBuilds} candidate builds (issue 17: the
   * progress bar shows done / bound and an ETA); phases that know no bound do not call it.
   */
  default void bound(int candidateBuilds) {}

  /** A probe is about to be built (or read from the journal). */
  default void probeStarted(ProbeSpec spec) {}

  /** A probe finished; {@code result.fromJournal()} tells whether it was built. */
  default void probeFinished(ProbeResult result) {}
}
