package dev.halfbisect.bisect.testing;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildStats;
import dev.halfbisect.core.backend.RunResult;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.core.backend.Timing;
import dev.halfbisect.core.backend.TimingRequest;
import java.util.List;
import java.util.Map;

/**
 * A session that hands every call to another one: test backends override only what they change (a
 * fault, a clock, build notes) on top of the interpreter's session.
 */
public class ForwardingSession implements BackendSession {
  private final BackendSession delegate;

  public ForwardingSession(BackendSession delegate) {
    this.delegate = delegate;
  }

  protected BackendSession delegate() {
    return delegate;
  }

  @Override
  public List<TensorInfo> inputs() {
    return delegate.inputs();
  }

  @Override
  public List<String> outputNames() {
    return delegate.outputNames();
  }

  @Override
  public RunResult run(Map<String, Tensor> inputs) throws BackendException {
    return delegate.run(inputs);
  }

  @Override
  public Timing time(Map<String, Tensor> inputs, TimingRequest request) throws BackendException {
    return delegate.time(inputs, request);
  }

  @Override
  public BuildStats buildStats() {
    return delegate.buildStats();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
