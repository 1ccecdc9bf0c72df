package dev.halfbisect.core.backend;

import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;

/** Name, element type and shape (-1 where dynamic) of a model input or output. */
public record TensorInfo(String name, DType dtype, long[] shape) {
  public TensorInfo {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Whether {@code t} fits: same dtype, same rank, equal static dims. */
  public boolean accepts(Tensor t) {
    if (t.dtype() != dtype || t.rank() != shape.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] >= 0 && shape[i] != t.dim(i)) {
        return false;
      }
    }
    return true;
  }

  /** {@code input_ids int64 [-1x128]}-style description used in error messages. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : "x").append(shape[i] < 0 ? "?" : Long.toString(shape[i]));
    }
    return name + " " + (dtype == null ? "unknown" : dtype.cliName()) + " [" + sb + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t
        && t.name.equals(name)
        && t.dtype == dtype
        && java.util.Arrays.equals(t.shape, shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + java.util.Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return describe();
  }
}
