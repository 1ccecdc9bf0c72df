package dev.halfbisect.trt;

import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.backend.BackendSession;
import dev.halfbisect.core.backend.BuildOptions;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.trt.client.TrtSettings;
import dev.halfbisect.trt.client.WorkerPool;

/** Lets client-package tests open sessions of the package-private {@link TrtSession}. */
public final class TestModelsAccess {
  private TestModelsAccess() {}

  /** A small static-shape model. */
  public static byte[] smallModel() {
    return TestModels.overflowLayerNorm(4, 8, 1f, false);
  }

  public static BackendSession open(WorkerPool pool, TrtSettings settings, byte[] model)
      throws BackendException {
    return TrtSession.open(
        pool, settings, ModelRef.ofBytes("ok", model, null), BuildOptions.of("fp16"));
  }
}
