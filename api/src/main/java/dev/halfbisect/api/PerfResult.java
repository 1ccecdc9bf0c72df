package dev.halfbisect.api;

import dev.halfbisect.core.Tensor;
import dev.halfbisect.report.model.PerfReport;
import dev.halfbisect.report.model.PerfRow;
import dev.halfbisect.report.render.PerfTable;
import java.util.List;
import java.util.Optional;

/**
 * The {@code perf} table (issue 20): latency, throughput, error against the FP32 reference and
 * speed-up per precision and batch. {@link #fp16Speed()} is false on ONNX Runtime, whose times are
 * CPU emulation times and say nothing about FP16 speed.
 */
public final class PerfResult {
  private final PerfReport report;

  PerfResult(PerfReport report) {
    this.report = report;
  }

  /** The document written by {@code --json}. */
  public PerfReport report() {
    return report;
  }

  /**
   * Rows, shape-set-major then batch-major, in the order asked (unmeasured ones carry {@link
   * PerfRow#skipped()}).
   */
  public List<PerfRow> rows() {
    return report.rows();
  }

  /** The measured row of {@code precision} at {@code batch}. */
  public Optional<PerfRow> row(String precision, int batch) {
    return rows().stream()
        .filter(r -> r.measured() && r.precision().equals(precision) && r.batch() == batch)
        .findFirst();
  }

  /**
   * The measured row of {@code precision} at {@code batch} in the rows of {@code shapes}: every
   * input it names has its dims there, dim 0 replaced by {@code batch}.
   */
  public Optional<PerfRow> row(String precision, int batch, ShapeSet shapes) {
    return rows().stream()
        .filter(r -> r.measured() && r.precision().equals(precision) && r.batch() == batch)
        .filter(r -> hasShapes(r, batch, shapes))
        .findFirst();
  }

  private static boolean hasShapes(PerfRow r, int batch, ShapeSet shapes) {
    for (String input : shapes.shapes().keySet()) {
      long[] dims = shapes.dims(input);
      if (dims == null) {
        return false;
      }
      if (dims.length > 0) {
        dims[0] = batch;
      }
      if (!Tensor.shapeToString(dims).equals(r.shapes().get(input))) {
        return false;
      }
    }
    return true;
  }

  /** Whether every measured row passes the tolerance. */
  public boolean passed() {
    return report.verdict().equals("pass");
  }

  /** Whether the latencies measure real FP16 speed (a GPU clock). */
  public boolean fp16Speed() {
    return report.fp16Speed();
  }

  /** The console table, every column. */
  public String table() {
    return PerfTable.console(report, PerfTable.Layout.FULL);
  }

  /** A Markdown section with the table in {@code layout}'s columns. */
  public String markdown(PerfTable.Layout layout) {
    return PerfTable.markdown(report, layout);
  }

  public String toJson() {
    return report.toJson();
  }
}
