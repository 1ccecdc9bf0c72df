package dev.halfbisect.api;

import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.Tensor;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Issue 20: a sample re-batched to batch size B for {@code perf}: the first dimension of every
 * input of rank >= 1 becomes B, its rows those of the sample repeated in order (row i is sample row
 * i mod b). A graph input whose first dimension is static and not B is a usage error.
 */
final class Batching {
  private Batching() {}

  /** The batch of {@code sample}: the first dimension of its first input of rank >= 1, else 1. */
  static int batchOf(Map<String, Tensor> sample) {
    for (Tensor t : sample.values()) {
      if (t.shape().length > 0) {
        return (int) t.shape()[0];
      }
    }
    return 1;
  }

  static Map<String, Tensor> batched(ModelGraph graph, Map<String, Tensor> sample, int batch) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : sample.entrySet()) {
      Tensor t = e.getValue();
      long[] shape = t.shape();
      if (shape.length == 0 || shape[0] == batch) {
        out.put(e.getKey(), t);
        continue;
      }
      long[] declared = graph.shape(e.getKey()).orElse(new long[0]);
      if (declared.length > 0 && declared[0] > 0) {
        throw HalfBisectException.usage(
            "input "
                + e.getKey()
                + " of "
                + graph.name()
                + " has a static batch dimension of "
                + declared[0]
                + ", so batch "
                + batch
                + " cannot run; export the model with a dynamic first axis (torch.onnx.export"
                + " dynamic_axes={'"
                + e.getKey()
                + "': {0: 'batch'}})");
      }
      out.put(e.getKey(), tile(t, batch));
    }
    return out;
  }

  private static Tensor tile(Tensor t, int batch) {
    long[] shape = t.shape().clone();
    long rows = shape[0];
    ByteBuffer src = t.bytes();
    int rowBytes = rows == 0 ? 0 : (int) (src.remaining() / rows);
    shape[0] = batch;
    ByteBuffer dst = ByteBuffer.allocate(rowBytes * batch).order(src.order());
    for (int i = 0; i < batch; i++) {
      ByteBuffer row = src.duplicate();
      int from = src.position() + (int) (i % Math.max(1, rows)) * rowBytes;
      row.position(from).limit(from + rowBytes);
      dst.put(row);
    }
    dst.flip();
    return Tensor.ofBytes(t.dtype(), shape, dst.asReadOnlyBuffer());
  }
}
