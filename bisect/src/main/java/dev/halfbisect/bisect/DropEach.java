package dev.halfbisect.bisect;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The last stage of every shrink: remove pinned nodes one at a time, in order, each tried against
 * the plan as it stands when its turn comes, and go over the plan again until a pass removes
 * nothing; then removing any single node fails (1-minimal on the tester's side).
 *
 * <p>With k probes a round (issue 18) a round guesses what its own earlier tests will say, so the
 * answer stays the one-at-a-time answer and only the guess decides how many tests a round settles:
 *
 * <ul>
 *   <li>removals expected to fail: the j-th set lacks the j-th next node alone; the round settles
 *       every node up to its first pass (each failure was tested against the plan as it stands).
 *   <li>removals expected to pass: the j-th set lacks the next j nodes together; the round settles
 *       every node up to its first failure (each pass and that failure were tested against the plan
 *       one at a time would have had then).
 * </ul>
 *
 * The guess follows the last {@link #WINDOW} outcomes (all of a round's, settled or not). Tried one
 * node alone at a time only, a round that mostly passes settles one node: on MiniLM's level-1
 * TensorRT confirm of 2026-12-07 the first 20 removals passed 16 times, and 60 builds went from 41
 * pinned nodes to 29.
 */
final class DropEach {
  /** Outcomes the guess looks back on. */
  static final int WINDOW = 8;

  private DropEach() {}

  /**
   * Shrinks {@code current} in place; it always holds a passing set, also when {@link
   * PrecisionSearch.BudgetExhausted} ends the shrink early.
   */
  static void run(PrecisionSearch.Tester test, List<String> current) {
    Deque<Boolean> recent = new ArrayDeque<>();
    boolean removed = true;
    while (removed) {
      removed = false;
      int i = 0;
      while (i < current.size()) {
        int k = Math.min(test.parallelism(), current.size() - i);
        boolean together = k > 1 && passesLikely(recent);
        List<List<String>> sets = new ArrayList<>();
        for (int j = 0; j < k; j++) {
          List<String> w = new ArrayList<>(current);
          if (together) {
            w.subList(i, i + j + 1).clear();
          } else {
            w.remove(i + j);
          }
          sets.add(w);
        }
        List<Boolean> passed = test.round(sets, "minimise");
        passed.forEach(p -> remember(recent, p));
        int settled = passed.indexOf(!together); // together: first failure; alone: first pass
        if (together) {
          int dropped = settled < 0 ? passed.size() : settled;
          if (dropped > 0) {
            replace(current, sets.get(dropped - 1));
            removed = true;
          }
          i += settled < 0 ? 0 : 1; // the failing node stays, at i
        } else {
          i += settled < 0 ? passed.size() : settled; // the failing nodes before it stay
          if (settled >= 0) {
            replace(current, sets.get(settled));
            removed = true;
          }
        }
      }
    }
  }

  private static boolean passesLikely(Deque<Boolean> recent) {
    long passes = recent.stream().filter(b -> b).count();
    return 2 * passes > recent.size();
  }

  private static void remember(Deque<Boolean> recent, boolean pass) {
    recent.addLast(pass);
    if (recent.size() > WINDOW) {
      recent.removeFirst();
    }
  }

  private static void replace(List<String> current, List<String> with) {
    List<String> copy = List.copyOf(with);
    current.clear();
    current.addAll(copy);
  }
}
