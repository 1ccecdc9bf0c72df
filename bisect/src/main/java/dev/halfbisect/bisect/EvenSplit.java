package dev.halfbisect.bisect;

import java.util.ArrayList;
import java.util.List;

/** Cuts a list into consecutive parts whose sizes differ by at most one. */
final class EvenSplit {
  private EvenSplit() {}

  /** {@code items} in {@code n} parts (copies), the larger ones last. */
  static List<List<String>> parts(List<String> items, int n) {
    List<List<String>> parts = new ArrayList<>(n);
    int start = 0;
    for (int i = 0; i < n; i++) {
      int end = start + (items.size() - start) / (n - i);
      parts.add(new ArrayList<>(items.subList(start, end)));
      start = end;
    }
    return parts;
  }

  /** {@code items} in as few parts as keep each at most {@code max} long. */
  static List<List<String>> atMost(List<String> items, int max) {
    return parts(items, (items.size() + max - 1) / max);
  }
}
