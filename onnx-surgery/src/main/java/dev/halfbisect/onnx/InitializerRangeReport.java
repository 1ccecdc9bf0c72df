package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Half;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * How well each float weight fits FP16, for initializers and for the values of {@code Constant}
 * nodes alike (exporters of other frameworks keep every weight in Constant nodes; issue 15):
 * largest magnitude, how many values overflow FP16's +-65504, how many land in FP16's subnormal
 * range and how many fall below its smallest subnormal. Values are streamed (external data
 * memory-mapped in pieces), so models larger than the heap can be scanned. Rows are sorted worst
 * first: most overflowing values, then most values below the smallest subnormal, then most
 * subnormal values, then largest magnitude.
 */
public final class InitializerRangeReport {
  private static final double FP16_MAX = Half.MAX_VALUE;
  private static final double FP16_MIN_NORMAL = Half.MIN_NORMAL;
  private static final double FP16_MIN_SUBNORMAL = Half.MIN_VALUE;

  /**
   * One float weight: an initializer or the value of a Constant node.
   *
   * @param name initializer name, or the output tensor of the Constant node
   * @param dtype its element type
   * @param elementCount number of values
   * @param maxAbs largest finite or infinite |w| (NaN values are skipped)
   * @param countAboveFp16Max values with |w| > 65504 (they become +-inf in FP16)
   * @param countBelowFp16MinNormal values with 0 < |w| < 2^-14 (subnormal in FP16, precision lost;
   *     includes the next count)
   * @param countBelowFp16MinSubnormal values with 0 < |w| < 2^-24, below FP16's smallest subnormal
   *     (they round to zero, or to 2^-24 when above 2^-25)
   * @param constantNode the Constant node holding the value, or empty for an initializer
   */
  public record Row(
      String name,
      DType dtype,
      long elementCount,
      double maxAbs,
      long countAboveFp16Max,
      long countBelowFp16MinNormal,
      long countBelowFp16MinSubnormal,
      java.util.Optional<String> constantNode) {
    /** An initializer's row. */
    public Row(
        String name,
        DType dtype,
        long elementCount,
        double maxAbs,
        long countAboveFp16Max,
        long countBelowFp16MinNormal,
        long countBelowFp16MinSubnormal) {
      this(
          name,
          dtype,
          elementCount,
          maxAbs,
          countAboveFp16Max,
          countBelowFp16MinNormal,
          countBelowFp16MinSubnormal,
          java.util.Optional.empty());
    }

    /** {@code initializer} or {@code Constant <node>}. */
    public String source() {
      return constantNode.map(n -> "Constant " + n).orElse("initializer");
    }

    /** Whether any value is damaged by FP16 storage. */
    public boolean hasFp16Risk() {
      return countAboveFp16Max > 0 || countBelowFp16MinNormal > 0;
    }
  }

  private final String modelName;
  private final List<Row> rows;

  private InitializerRangeReport(String modelName, List<Row> rows) {
    this.modelName = modelName;
    this.rows = List.copyOf(rows);
  }

  /** Scans every float initializer and every float Constant value of the model's main graph. */
  public static InitializerRangeReport of(OnnxModel m) {
    Preconditions.checkNotNull(m, "model");
    List<Row> rows = new ArrayList<>();
    for (Onnx.TensorProto t : m.graph().getInitializerList()) {
      if (ElementTypes.isFloat(t.getDataType())) {
        rows.add(scan(t, m));
      }
    }
    for (Onnx.NodeProto n : m.index().nodes()) {
      if (n.getOpType().equals("Constant") && n.getOutputCount() > 0) {
        constantRow(n, m).ifPresent(rows::add);
      }
    }
    rows.sort(
        Comparator.comparingLong(Row::countAboveFp16Max)
            .reversed()
            .thenComparing(Comparator.comparingLong(Row::countBelowFp16MinSubnormal).reversed())
            .thenComparing(Comparator.comparingLong(Row::countBelowFp16MinNormal).reversed())
            .thenComparing(Comparator.comparingDouble(Row::maxAbs).reversed())
            .thenComparing(Row::name));
    return new InitializerRangeReport(m.name(), rows);
  }

  private static Row scan(Onnx.TensorProto t, OnnxModel m) {
    Accumulator acc = new Accumulator();
    TensorData.scanFloats(t, m.baseDir().orElse(null), acc::accept);
    return new Row(
        t.getName(),
        DType.fromOnnxCode(t.getDataType()),
        acc.count,
        acc.maxAbs,
        acc.above,
        acc.subnormal,
        acc.belowSubnormal);
  }

  /** The row of a Constant node's float value ({@code value}, {@code value_float(s)}), if any. */
  private static java.util.Optional<Row> constantRow(Onnx.NodeProto n, OnnxModel m) {
    for (Onnx.AttributeProto a : n.getAttributeList()) {
      Accumulator acc = new Accumulator();
      DType dtype = DType.FLOAT32;
      switch (a.getName()) {
        case "value":
          if (!a.hasT() || !ElementTypes.isFloat(a.getT().getDataType())) {
            return java.util.Optional.empty();
          }
          TensorData.scanFloats(a.getT(), m.baseDir().orElse(null), acc::accept);
          dtype = DType.fromOnnxCode(a.getT().getDataType());
          break;
        case "value_float":
          acc.accept(a.getF());
          break;
        case "value_floats":
          a.getFloatsList().forEach(acc::accept);
          break;
        default:
          continue;
      }
      return java.util.Optional.of(
          new Row(
              n.getOutput(0),
              dtype,
              acc.count,
              acc.maxAbs,
              acc.above,
              acc.subnormal,
              acc.belowSubnormal,
              java.util.Optional.of(n.getName())));
    }
    return java.util.Optional.empty();
  }

  /** Rows, worst first. */
  public List<Row> rows() {
    return rows;
  }

  /** Rows with at least one value damaged by FP16 storage. */
  public List<Row> risky() {
    return rows.stream().filter(Row::hasFp16Risk).toList();
  }

  /** A plain-text table of the first {@code limit} rows. */
  public String format(int limit) {
    StringBuilder sb = new StringBuilder();
    sb.append("FP16 range of float weights (initializers and Constant nodes) in ")
        .append(modelName)
        .append('\n');
    sb.append(
        String.format(
            Locale.ROOT,
            "%-48s %-8s %12s %12s %10s %10s %10s  %s%n",
            "weight",
            "dtype",
            "elements",
            "max|w|",
            ">65504",
            "<2^-14",
            "<2^-24",
            "source"));
    for (int i = 0; i < Math.min(limit, rows.size()); i++) {
      Row r = rows.get(i);
      sb.append(
          String.format(
              Locale.ROOT,
              "%-48s %-8s %12d %12.5g %10d %10d %10d  %s%n",
              r.name(),
              r.dtype().cliName(),
              r.elementCount(),
              r.maxAbs(),
              r.countAboveFp16Max(),
              r.countBelowFp16MinNormal(),
              r.countBelowFp16MinSubnormal(),
              r.source()));
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return format(20);
  }

  private static final class Accumulator {
    long count;
    double maxAbs;
    long above;
    long subnormal;
    long belowSubnormal;

    void accept(double v) {
      count++;
      double a = Math.abs(v);
      if (Double.isNaN(a)) {
        return;
      }
      if (a > maxAbs) {
        maxAbs = a;
      }
      if (a > FP16_MAX) {
        above++;
      } else if (a > 0 && a < FP16_MIN_NORMAL) {
        subnormal++;
        if (a < FP16_MIN_SUBNORMAL) {
          belowSubnormal++;
        }
      }
    }
  }
}
