package dev.halfbisect.core.data;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.util.ArrayList;
import java.util.List;
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
 * <p>Pins (issue 15): FILL may end in comma-separated pins that fix positions of the last axis in
 * every row, after the fill is drawn: {@code first=V} (position 0), {@code last=V} (the last
 * position) and {@code @I=V} (position I; a negative I counts from the end), e.g. {@code
 * input_ids:1x128:int64:1000..21000,first=101,last=102} gives token sequences that start with [CLS]
 * and end with [SEP] as real BERT inputs do. Pinned positions do not change the other values.
 *
 * @param name the input's ONNX name
 * @param shape its dims
 * @param dtype its element type
 * @param fill how its values are drawn
 * @param pins positions of the last axis set to fixed values, in the order given
 */
public record InputSpec(String name, long[] shape, DType dtype, Fill fill, List<Pin> pins) {

  /**
   * A position of the last axis that holds {@code value} in every row.
   *
   * @param position index along the last axis; negative counts from the end (-1 is the last)
   * @param value the value there
   */
  public record Pin(long position, double value) {}

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
    pins = List.copyOf(pins);
    if (!pins.isEmpty()) {
      Preconditions.checkArgument(
          shape.length > 0, "input %s: pins need an input of rank >= 1", name);
      long len = shape[shape.length - 1];
      for (Pin p : pins) {
        Preconditions.checkArgument(
            p.position() < len && p.position() >= -len,
            "input %s: pinned position %s is outside its last axis of size %s",
            name,
            p.position(),
            len);
      }
    }
  }

  /** A spec without pins. */
  public InputSpec(String name, long[] shape, DType dtype, Fill fill) {
    this(name, shape, dtype, fill, List.of());
  }

  /** This spec with {@code more} pins added after its own. */
  public InputSpec withPins(List<Pin> more) {
    List<Pin> all = new ArrayList<>(pins);
    all.addAll(more);
    return new InputSpec(name, shape, dtype, fill, all);
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
    // Pins follow the fill after commas; normal(MEAN,STD) has a comma of its own.
    int close = fillText.indexOf(')');
    int comma = fillText.indexOf(',', close < 0 ? 0 : close);
    Fill fill = parseFill(text, comma < 0 ? fillText : fillText.substring(0, comma), dtype);
    List<Pin> pins = new ArrayList<>();
    if (comma >= 0) {
      for (String part : fillText.substring(comma + 1).split(",", -1)) {
        pins.add(parsePin(text, part, dtype));
      }
    }
    try {
      return new InputSpec(name, shape, dtype, fill, pins);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("input spec '" + text + "': " + e.getMessage(), e);
    }
  }

  /** {@code first=V}, {@code last=V} or {@code @I=V}. */
  private static Pin parsePin(String spec, String p, DType dtype) {
    String t = p.trim().toLowerCase(Locale.ROOT);
    int eq = t.indexOf('=');
    String where = eq < 0 ? "" : t.substring(0, eq).trim();
    long position;
    if (where.equals("first")) {
      position = 0;
    } else if (where.equals("last")) {
      position = -1;
    } else if (where.startsWith("@")) {
      try {
        position = Long.parseLong(where.substring(1).trim());
      } catch (NumberFormatException e) {
        position = Long.MIN_VALUE;
      }
    } else {
      position = Long.MIN_VALUE;
    }
    if (eq < 0 || position == Long.MIN_VALUE) {
      throw new IllegalArgumentException(
          "input spec '"
              + spec
              + "': pin '"
              + p
              + "' must be first=V, last=V or @I=V (I a position of the last axis, negative from"
              + " the end), e.g. 1000..21000,first=101,last=102");
    }
    double v = number(spec, p, t.substring(eq + 1), dtype);
    if (!dtype.isFloatingPoint()) {
      checkIntRange(spec, p, v, dtype);
    }
    return new Pin(position, v);
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
        && fill.equals(s.fill)
        && pins.equals(s.pins);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, java.util.Arrays.hashCode(shape), dtype, fill, pins);
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
    StringBuilder pinText = new StringBuilder();
    for (Pin p : pins) {
      pinText.append(',');
      if (p.position() == 0) {
        pinText.append("first");
      } else if (p.position() == -1) {
        pinText.append("last");
      } else {
        pinText.append('@').append(p.position());
      }
      pinText.append('=').append(fmt(p.value()));
    }
    f += pinText;
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
