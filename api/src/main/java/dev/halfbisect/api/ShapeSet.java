package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.primitives.Longs;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import javax.annotation.CheckForNull;

/**
 * The full shapes of some inputs for one set of {@code perf} rows (issue 20, CLI {@code --shape
 * NAME:DIMS[,NAME:DIMS...]}), e.g. {@code image:1x3x256x256}. Inputs it does not name keep their
 * shape from {@code --input}, the loaded data or derivation, with symbolic dims shared with a named
 * input taking its size. A batch size of {@link PerfOptions#batches()} replaces dim 0 after the
 * shape is applied. Dims are checked against the model when {@code perf} runs (rank, fixed dims,
 * dims >= 1), where the message can say what the model declares.
 *
 * @param shapes input name -> its dims, in the order given
 */
public record ShapeSet(ImmutableMap<String, ImmutableList<Long>> shapes) {
  public ShapeSet {
    Preconditions.checkArgument(!shapes.isEmpty(), "a shape set names at least one input");
    shapes = ImmutableMap.copyOf(shapes);
  }

  /** One input's shape, e.g. {@code ShapeSet.of("image", 1, 3, 256, 256)}. */
  public static ShapeSet of(String input, long... dims) {
    return new ShapeSet(ImmutableMap.of(input, ImmutableList.copyOf(Longs.asList(dims))));
  }

  /** This set with {@code input}'s shape added; an input may be named once. */
  public ShapeSet and(String input, long... dims) {
    Preconditions.checkArgument(
        !shapes.containsKey(input), "input %s is named twice in shape set %s", input, this);
    Map<String, ImmutableList<Long>> m = new LinkedHashMap<>(shapes);
    m.put(input, ImmutableList.copyOf(Longs.asList(dims)));
    return new ShapeSet(ImmutableMap.copyOf(m));
  }

  /**
   * Parses {@code NAME:DIMS[,NAME:DIMS...]} with DIMS as {@code 1x3x256x256}; one shape set, so an
   * input may be named once (repeat {@code --shape} for another set).
   *
   * @throws IllegalArgumentException naming the part that is malformed
   */
  public static ShapeSet parse(String text) {
    Preconditions.checkNotNull(text, "shape set");
    Map<String, ImmutableList<Long>> m = new LinkedHashMap<>();
    for (String part : text.split(",", -1)) {
      String p = part.trim();
      int colon = p.lastIndexOf(':');
      if (colon <= 0 || colon == p.length() - 1) {
        throw new IllegalArgumentException(
            "--shape " + text + ": '" + p + "' is not NAME:DIMS (e.g. --shape input:1x3x256x256)");
      }
      String name = p.substring(0, colon);
      String[] dims = p.substring(colon + 1).split("x", -1);
      ImmutableList.Builder<Long> d = ImmutableList.builder();
      for (int i = 0; i < dims.length; i++) {
        try {
          d.add(Long.parseLong(dims[i].trim()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "--shape "
                  + text
                  + ": dim "
                  + i
                  + " of input "
                  + name
                  + " is '"
                  + dims[i]
                  + "', not a whole number (e.g. --shape input:1x3x256x256)",
              e);
        }
      }
      if (m.put(name, d.build()) != null) {
        throw new IllegalArgumentException(
            "--shape "
                + text
                + ": input "
                + name
                + " is named twice; one --shape is one set of rows, repeat --shape for another"
                + " shape of the same input");
      }
    }
    return new ShapeSet(ImmutableMap.copyOf(m));
  }

  /** The dims of {@code input}; null when this set does not name it. */
  @CheckForNull
  long[] dims(String input) {
    ImmutableList<Long> d = shapes.get(input);
    return d == null ? null : Longs.toArray(d);
  }

  /** {@code NAME:DIMS[,NAME:DIMS...]}, as {@link #parse} reads it. */
  @Override
  public String toString() {
    return shapes.entrySet().stream()
        .map(
            e ->
                e.getKey()
                    + ":"
                    + e.getValue().stream().map(String::valueOf).collect(Collectors.joining("x")))
        .collect(Collectors.joining(","));
  }
}
