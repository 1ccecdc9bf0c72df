package dev.halfbisect.report.text;

import java.util.Locale;

/** Number formatting shared by the renderers (locale-independent). */
public final class Fmt {
  private Fmt() {}

  /** Scientific with three significant digits: {@code 3.30e-03}; {@code inf}, {@code NaN}. */
  public static String sci(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    if (v == 0) {
      return "0";
    }
    return String.format(Locale.ROOT, "%.2e", v);
  }

  /** Plain with up to {@code digits} decimals for moderate values, scientific otherwise. */
  public static String num(double v) {
    if (!Double.isFinite(v) || v == 0) {
      return sci(v);
    }
    double a = Math.abs(v);
    if (a >= 0.01 && a < 1e5) {
      return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
    }
    return sci(v);
  }

  /** An amplification factor: {@code 12.5x}; {@code inf} / {@code NaN} without the x. */
  public static String times(double v) {
    return Double.isFinite(v) ? num(v) + "x" : sci(v);
  }

  public static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
  }

  /** Cuts a string to {@code width} characters, keeping its end (node names differ at the end). */
  public static String fit(String s, int width) {
    if (s.length() <= width) {
      return s;
    }
    return "..." + s.substring(s.length() - (width - 3));
  }
}
