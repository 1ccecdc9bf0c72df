package dev.halfbisect.ort;

import com.google.common.base.Preconditions;
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
 * The {@link BackendSession} handed to callers: a view holding one reference on a {@link
 * SharedOrtSession}. Closing it releases that reference only (idempotent); the native session lives
 * on while the backend's cache or other views still hold it.
 */
final class OrtBackendSession implements BackendSession {
  private final SharedOrtSession shared;
  private final BuildStats stats;
  private boolean closed;

  /** Takes over a reference the caller already retained for this view. */
  OrtBackendSession(SharedOrtSession shared, BuildStats stats) {
    this.shared = shared;
    this.stats = stats;
  }

  @Override
  public List<TensorInfo> inputs() {
    return shared.inputs();
  }

  @Override
  public List<String> outputNames() {
    return shared.outputNames();
  }

  @Override
  public Timing time(Map<String, Tensor> inputs, TimingRequest request) throws BackendException {
    // issue 20: ORT times are CPU times of an FP32 computation; never shown as FP16 speed
    return Timing.byWallClock(Timing.Clock.CPU_EMULATION, request, () -> run(inputs));
  }

  @Override
  public RunResult run(Map<String, Tensor> inputs) throws BackendException {
    Preconditions.checkState(!closed, "session of model '%s' is closed", shared.modelName());
    Preconditions.checkNotNull(inputs, "inputs");
    return shared.run(inputs);
  }

  @Override
  public BuildStats buildStats() {
    return stats;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      shared.release();
    }
  }

  @Override
  public String toString() {
    return "ort session of "
        + shared.modelName()
        + " ("
        + shared.outputNames().size()
        + " outputs)";
  }
}
