package dev.halfbisect.core.verdict;

import com.google.common.base.Preconditions;
import java.util.Locale;

/**
 * Which quantity a {@link Tolerance} limits. {@link Kind#NORMALIZED} is halfbisect's default
 * (normalized error against a limit); the other kinds are Polygraphy's {@code --check-error-stat}
 * choices. Instances are values: compare with {@code equals}.
 *
 * @param kind what is checked
 * @param quantile the quantile for {@link Kind#QUANTILE} (in [0, 1]); NaN otherwise
 */
public record CheckMode(Kind kind, double quantile) {
  /** The checked quantity. */
  public enum Kind {
    NORMALIZED,
    ELEMENTWISE,
    MEAN,
    MEDIAN,
    MAX,
    QUANTILE
  }

  /** ||c - r|| / ||r|| against {@link Tolerance#maxNormalizedError()}. */
  public static final CheckMode NORMALIZED = new CheckMode(Kind.NORMALIZED, Double.NaN);

  /** Every element: |c - r| <= atol + rtol |r|. */
  public static final CheckMode ELEMENTWISE = new CheckMode(Kind.ELEMENTWISE, Double.NaN);

  /** Mean absolute error against atol, or mean relative error against rtol. */
  public static final CheckMode MEAN = new CheckMode(Kind.MEAN, Double.NaN);

  /** Median absolute error against atol, or median relative error against rtol. */
  public static final CheckMode MEDIAN = new CheckMode(Kind.MEDIAN, Double.NaN);

  /** Largest absolute error against atol, or largest relative error against rtol. */
  public static final CheckMode MAX = new CheckMode(Kind.MAX, Double.NaN);

  public CheckMode {
    Preconditions.checkNotNull(kind, "kind");
    if (kind == Kind.QUANTILE) {
      Preconditions.checkArgument(
          quantile >= 0 && quantile <= 1, "quantile %s outside [0, 1]", quantile);
    } else {
      quantile = Double.NaN;
    }
  }

  /** The q-quantile of absolute error against atol, or of relative error against rtol. */
  public static CheckMode quantile(double q) {
    return new CheckMode(Kind.QUANTILE, q);
  }

  /**
   * Parses {@code normalized}, {@code elementwise} (or {@code elemwise}), {@code mean}, {@code
   * median}, {@code max} or {@code quantile:Q} / {@code quantile=Q}.
   *
   * @throws IllegalArgumentException naming the accepted forms
   */
  public static CheckMode parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    switch (t) {
      case "normalized":
        return NORMALIZED;
      case "elementwise":
      case "elemwise":
        return ELEMENTWISE;
      case "mean":
        return MEAN;
      case "median":
        return MEDIAN;
      case "max":
        return MAX;
      default:
        if (t.startsWith("quantile:") || t.startsWith("quantile=")) {
          String q = t.substring("quantile:".length());
          try {
            return quantile(Double.parseDouble(q));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                "check mode '" + text + "': quantile '" + q + "' is not a number", e);
          }
        }
        throw new IllegalArgumentException(
            "unknown check mode '"
                + text
                + "': expected normalized, elementwise, mean, median, max or quantile:Q");
    }
  }

  @Override
  public String toString() {
    return kind == Kind.QUANTILE ? "quantile:" + quantile : kind.name().toLowerCase(Locale.ROOT);
  }
}
