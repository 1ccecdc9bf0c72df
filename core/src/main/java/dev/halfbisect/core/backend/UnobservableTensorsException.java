package dev.halfbisect.core.backend;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import java.util.List;

/**
 * A build was asked to observe tensors the backend's compiled network no longer has (TensorRT folds
 * constant subgraphs away while parsing). The other requested tensors may be observable: callers
 * drop {@link #tensors()} and build again rather than giving up on the whole set.
 */
public class UnobservableTensorsException extends BackendException {
  private static final long serialVersionUID = 1L;

  private final ImmutableList<String> tensors;

  public UnobservableTensorsException(String message, List<String> tensors) {
    super(message);
    Preconditions.checkArgument(tensors != null && !tensors.isEmpty(), "no tensor named");
    this.tensors = ImmutableList.copyOf(tensors);
  }

  /** The tensors that cannot be observed. */
  public ImmutableList<String> tensors() {
    return tensors;
  }
}
