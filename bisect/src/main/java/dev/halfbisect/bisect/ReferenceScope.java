package dev.halfbisect.bisect;

import dev.halfbisect.core.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reference values held for one layerwise chunk ({@link Prober#openScope}): probes made while it is
 * open compare against them; closing it moves what fits the reference cache budget into the shared
 * cache and drops the rest.
 */
final class ReferenceScope implements AutoCloseable {
  private final ReferenceValues owner;
  final List<String> order;
  final List<Map<String, Tensor>> values = new ArrayList<>();
  private boolean closed;

  ReferenceScope(ReferenceValues owner, Collection<String> tensors, int samples) {
    this.owner = owner;
    this.order = List.copyOf(tensors);
    for (int s = 0; s < samples; s++) {
      values.add(new HashMap<>());
    }
  }

  /** Reference values of {@code tensors} per sample, from this scope or the shared cache. */
  public List<Map<String, Tensor>> reference(Collection<String> tensors) {
    return owner.get(tensors);
  }

  /** Ends the scope; closing it again does nothing. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      owner.close(this);
    }
  }
}
