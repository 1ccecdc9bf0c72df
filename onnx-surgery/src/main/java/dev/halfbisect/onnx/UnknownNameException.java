package dev.halfbisect.onnx;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A node or tensor name that the graph does not have. The message lists up to five names of the
 * graph that are closest to it (substring matches first, then by edit distance), so a typo is easy
 * to fix.
 */
public class UnknownNameException extends OnnxModelException {
  private static final long serialVersionUID = 1L;
  private static final int MAX_SUGGESTIONS = 5;

  private final String unknownName;
  private final List<String> closeNames;

  public UnknownNameException(String what, String unknownName, List<String> closeNames) {
    super(message(what, unknownName, closeNames));
    this.unknownName = unknownName;
    this.closeNames = List.copyOf(closeNames);
  }

  /** An exception for {@code name} with suggestions chosen among {@code known}. */
  public static UnknownNameException of(String what, String name, Collection<String> known) {
    return new UnknownNameException(what, name, closest(name, known, MAX_SUGGESTIONS));
  }

  public String unknownName() {
    return unknownName;
  }

  /** Up to five known names close to the unknown one, closest first. */
  public List<String> closeNames() {
    return closeNames;
  }

  private static String message(String what, String name, List<String> close) {
    String base = "unknown " + what + " '" + name + "'";
    return close.isEmpty() ? base : base + "; close names: " + String.join(", ", close);
  }

  /**
   * The {@code limit} names closest to {@code query}. Runs once per error, so a linear pass with a
   * bounded edit distance per name is fine even for 100k names.
   */
  static List<String> closest(String query, Collection<String> known, int limit) {
    String q = query.toLowerCase(Locale.ROOT);
    List<Scored> scored = new ArrayList<>();
    for (String k : known) {
      if (k == null || k.isEmpty()) {
        continue;
      }
      String kl = k.toLowerCase(Locale.ROOT);
      int score;
      if (!q.isEmpty() && (kl.contains(q) || q.contains(kl))) {
        score = Math.abs(kl.length() - q.length()) / 4; // substring: strong match
      } else {
        score = 8 + editDistance(q, kl, 64);
      }
      scored.add(new Scored(k, score));
    }
    scored.sort(Comparator.comparingInt(Scored::score).thenComparing(Scored::name));
    List<String> out = new ArrayList<>();
    for (int i = 0; i < scored.size() && out.size() < limit; i++) {
      out.add(scored.get(i).name());
    }
    return out;
  }

  /** Levenshtein distance, capped at {@code cap} to bound the cost on long names. */
  private static int editDistance(String a, String b, int cap) {
    if (Math.abs(a.length() - b.length()) >= cap) {
      return cap;
    }
    String s = a.length() > 256 ? a.substring(0, 256) : a;
    String t = b.length() > 256 ? b.substring(0, 256) : b;
    int[] prev = new int[t.length() + 1];
    int[] cur = new int[t.length() + 1];
    for (int j = 0; j <= t.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= s.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= t.length(); j++) {
        int cost = s.charAt(i - 1) == t.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] tmp = prev;
      prev = cur;
      cur = tmp;
    }
    return Math.min(prev[t.length()], cap);
  }

  private record Scored(String name, int score) {}
}
