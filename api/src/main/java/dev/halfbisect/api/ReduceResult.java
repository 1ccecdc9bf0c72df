package dev.halfbisect.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The smallest subgraph around the first failing tensor that still fails on its own when fed the
 * reference's values (Polygraphy's {@code debug reduce}, driven by the verdict).
 */
public final class ReduceResult extends AnalysisResult {
  private final List<String> nodes;
  private final Path model;

  ReduceResult(AnalysisReport report, List<String> nodes, Path model) {
    super(report);
    this.nodes = List.copyOf(nodes);
    this.model = model;
  }

  /** Node names of the reduced model, topological order (empty when nothing fails). */
  public List<String> nodes() {
    return nodes;
  }

  /** The reduced model file, written when an output folder was given. */
  public Optional<Path> model() {
    return Optional.ofNullable(model);
  }
}
