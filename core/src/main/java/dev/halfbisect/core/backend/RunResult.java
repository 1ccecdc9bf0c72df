package dev.halfbisect.core.backend;

import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.Tensor;
import java.time.Duration;

/** Named output tensors of one run, in {@link BackendSession#outputNames()} order, and its time. */
public record RunResult(ImmutableMap<String, Tensor> outputs, Duration runTime) {
  public RunResult {
    outputs = ImmutableMap.copyOf(outputs);
  }

  /** The tensor named {@code name}; throws naming the available ones when absent. */
  public Tensor get(String name) {
    Tensor t = outputs.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "no output named '" + name + "'; outputs are " + outputs.keySet());
    }
    return t;
  }
}
