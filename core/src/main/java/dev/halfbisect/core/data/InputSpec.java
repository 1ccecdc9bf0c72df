package dev.halfbisect.core.data;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How to make one model input: name, shape, dtype and fill, parsed from the command-line form
 * {@code NAME:SHAPE:DTYPE:FILL}, e.g. {@code input_ids:1x128:int64:1000..21000}.
 *
 * <p>SHAPE is dims joined by {@code x} ({@code 1x128}; {@code scalar} for rank 0). FILL is {@code
 * LO..HI} (uniform in [LO, HI); integers for integer dtypes), a single number (constant) or {@code
 * normal(MEAN,STD)} (float dtypes only). The name may itself contain colons: the last three
 * colon-separated parts are SHAPE, DTYPE and FILL.
 *
 * @param name the input's ONNX name
 * @param shape its dims
 * @param dtype its element type
 * @param fill how its values are drawn
 */
public record InputSpec(String name, long[] shape, DType dtype, Fill fill) {

  /** How the values of an input are drawn. */
  public sealed interface Fill permits Uniform, Constant, Normal {}

  /** Uniform in [lo, hi); for integer dtypes lo and hi are integers and values are integers. */
  public record Uniform(double lo, double hi) implements Fill {}

  /** Every element equals {@code value}. */
  public record Constant(double value) implements Fill {}

  /** Normal (Gaussian) with the given mean and standard deviation. */
  public record Normal(double mean, double std) implements Fill {}

  private static final Pattern NORMAL =
      Pattern.compile("normal\\(\\s*([^,\\s]+)\\s*,\\s*([^)\\s]+)\\s*\\)");

  public InputSpec {
    Preconditions.checkNotNull(name, "name");
    Preconditions.checkNotNull(dtype, "dtype");
    Preconditions.checkNotNull(fill, "fill");
    shape = shape.clone();
    Tensor.elementCount(shape);
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Parses {@code NAME:SHAPE:DTYPE:FILL}.
   *
   * @throws IllegalArgumentException naming the bad part and what was expected
   */
  public static InputSpec parse(String text) {
    Preconditions.checkNotNull(text, "text");
    int c3 = text.lastIndexOf(':');
    int c2 = c3 > 0 ? text.lastIndexOf(':', c3 - 1) : -1;
    int c1 = c2 > 0 ? text.lastIndexOf(':', c2 - 1) : -1;
    if (c1 <= 0) {
      throw new IllegalArgumentException(
          "input spec '"
              + text
              + "' must be NAME:SHAPE:DTYPE:FILL, e.g. input_ids:1x128:int64:1000..21000");
    }
    String name = text.substring(0, c1);
    String shapeText = text.substring(c1 + 1, c2);
    String dtypeText = text.substring(c2 + 1, c3);
    String fillText = text.substring(c3 + 1);
    long[] shape = parseShape(text, shapeText);
    DType dtype;
    try {
      dtype = DType.parse(dtypeText);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("input spec '" + text + "': " + e.getMessage(), e);
    }
    Fill fill = parseFill(text, fillText, dtype);
    return new InputSpec(name, shape, dtype, fill);
  }

  private static long[] parseShape(String spec, String s) {
    String t = s.trim();
    if (t.equalsIgnoreCase("scalar")) {
      return new long[0];
    }
    String[] parts = t.split("x", -1);
    long[] dims = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        dims[i] = Long.parseLong(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "input spec '"
                + spec
                + "': shape '"
                + s
                + "' must be dims joined by x (e.g. 1x128) or 'scalar'; '"
                + parts[i]
                + "' is not a dimension");
      }
      if (dims[i] < 0) {
        throw new IllegalArgumentException(
            "input spec '" + spec + "': shape '" + s + "' has a negative dimension");
      }
    }
    try {
      long n = Tensor.elementCount(dims);
      if (n > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(
            "input spec '"
                + spec
                + "': shape '"
                + s
                + "' has "
                + n
                + " elements, more than an array holds");
      }
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "input spec '" + spec + "': shape '" + s + "' overflows", e);
    }
    return dims;
  }

  private static Fill parseFill(String spec, String f, DType dtype) {
    String t = f.trim().toLowerCase(Locale.ROOT);
    Matcher m = NORMAL.matcher(t);
    if (m.matches()) {
      if (!dtype.isFloatingPoint()) {
        throw new IllegalArgumentException(
            "input spec '"
                + spec
                + "': fill '"
                + f
                + "' is for float dtypes, not "
                + dtype.cliName()
                + "; use LO..HI");
      }
      double mean = number(spec, f, m.group(1), dtype);
      double std = number(spec, f, m.group(2), dtype);
      if (!(std >= 0)) {
        throw new IllegalArgumentException(
            "input spec '" + spec + "': fill '" + f + "' needs STD >= 0");
      }
      return new Normal(mean, std);
    }
    int dots = t.indexOf("..");
    if (dots >= 0) {
      double lo = number(spec, f, t.substring(0, dots), dtype);
      double hi = number(spec, f, t.substring(dots + 2), dtype);
      if (!(hi > lo)) {
        throw new IllegalArgumentException(
            "input spec '"
                + spec
                + "': fill '"
                + f
                + "' needs LO < HI (values are drawn from [LO, HI))");
      }
      if (!dtype.isFloatingPoint()) {
        checkIntRange(spec, f, lo, dtype);
        checkIntRange(spec, f, hi - 1, dtype);
      }
      return new Uniform(lo, hi);
    }
    double v = number(spec, f, t, dtype);
    if (!dtype.isFloatingPoint()) {
      checkIntRange(spec, f, v, dtype);
    }
    return new Constant(v);
  }

  private static double number(String spec, String fill, String s, DType dtype) {
    String t = s.trim();
    try {
      if (!dtype.isFloatingPoint()) {
        return Long.parseLong(t);
      }
      double d = Double.parseDouble(t);
      if (!Double.isFinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "input spec '"
              + spec
              + "': fill '"
              + fill
              + "': '"
              + t
              + "' is not "
              + (dtype.isFloatingPoint() ? "a finite number" : "an integer")
              + " (expected LO..HI, a number"
              + (dtype.isFloatingPoint() ? " or normal(MEAN,STD))" : ")"));
    }
  }

  private static void checkIntRange(String spec, String fill, double v, DType dtype) {
    double lo;
    double hi;
    switch (dtype) {
      case INT8:
        lo = -128;
        hi = 127;
        break;
      case UINT8:
        lo = 0;
        hi = 255;
        break;
      case INT32:
        lo = Integer.MIN_VALUE;
        hi = Integer.MAX_VALUE;
        break;
      case BOOL:
        lo = 0;
        hi = 1;
        break;
      default:
        return;
    }
    if (v < lo || v > hi) {
      throw new IllegalArgumentException(
          "input spec '"
              + spec
              + "': fill '"
              + fill
              + "' leaves the range of "
              + dtype.cliName()
              + " ["
              + (long) lo
              + ", "
              + (long) hi
              + "]");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InputSpec s
        && name.equals(s.name)
        && java.util.Arrays.equals(shape, s.shape)
        && dtype == s.dtype
        && fill.equals(s.fill);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, java.util.Arrays.hashCode(shape), dtype, fill);
  }

  @Override
  public String toString() {
    String f;
    if (fill instanceof Uniform u) {
      f = fmt(u.lo()) + ".." + fmt(u.hi());
    } else if (fill instanceof Constant c) {
      f = fmt(c.value());
    } else {
      Normal n = (Normal) fill;
      f = "normal(" + fmt(n.mean()) + "," + fmt(n.std()) + ")";
    }
    return name
        + ":"
        + (shape.length == 0 ? "scalar" : Tensor.shapeToString(shape))
        + ":"
        + dtype.cliName()
        + ":"
        + f;
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}
