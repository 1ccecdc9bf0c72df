package dev.halfbisect.api;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.backend.TimingRequest;
import java.util.List;
import java.util.Locale;
import javax.annotation.CheckForNull;

/**
 * What {@link HalfBisect#perf(PerfOptions)} measures (issue 20): the precisions, the batch sizes,
 * the input shape sets, the timing loop and the backend that runs every row. Immutable; change with
 * the {@code with*} methods.
 *
 * @param precisions {@code fp32}, {@code tf32}, {@code fp16}, {@code bf16} or {@code plan:FILE}
 *     (FP16 with that plan); fp32 is always measured (the speed-up's base) and listed first
 * @param batches batch sizes (first dimension of every input); empty: the inputs' own batch
 * @param shapes issue 20: one set of rows per shape set (each crossed with every batch; a batch
 *     replaces dim 0 after the set's shapes are applied); empty: the inputs' own shapes, one set
 * @param timing warm-up and timed runs per row
 * @param backend backend name that runs and times the rows; null: the candidate's backend
 */
public record PerfOptions(
    ImmutableList<String> precisions,
    ImmutableList<Integer> batches,
    ImmutableList<ShapeSet> shapes,
    TimingRequest timing,
    @CheckForNull String backend) {

  public PerfOptions {
    Preconditions.checkArgument(!precisions.isEmpty(), "at least one precision is needed");
    for (String p : precisions) {
      checkPrecision(p);
    }
    for (int b : batches) {
      Preconditions.checkArgument(b >= 1, "batch sizes must be >= 1, got %s", b);
    }
    Preconditions.checkNotNull(timing, "timing");
    precisions = ImmutableList.copyOf(precisions);
    batches = ImmutableList.copyOf(batches);
    shapes = ImmutableList.copyOf(shapes);
  }

  /** Options without shape sets (the inputs' own shapes). */
  public PerfOptions(
      ImmutableList<String> precisions,
      ImmutableList<Integer> batches,
      TimingRequest timing,
      @CheckForNull String backend) {
    this(precisions, batches, ImmutableList.of(), timing, backend);
  }

  /** fp32, tf32 and fp16 at the inputs' own batch, {@link TimingRequest#defaults()}. */
  public static PerfOptions defaults() {
    return new PerfOptions(
        ImmutableList.of("fp32", "tf32", "fp16"),
        ImmutableList.of(),
        ImmutableList.of(),
        TimingRequest.defaults(),
        null);
  }

  public PerfOptions withPrecisions(List<String> p) {
    return new PerfOptions(ImmutableList.copyOf(p), batches, shapes, timing, backend);
  }

  public PerfOptions withBatches(List<Integer> b) {
    return new PerfOptions(precisions, ImmutableList.copyOf(b), shapes, timing, backend);
  }

  /** One set of rows per shape set, in order; an empty list: the inputs' own shapes. */
  public PerfOptions withShapes(List<ShapeSet> s) {
    return new PerfOptions(precisions, batches, ImmutableList.copyOf(s), timing, backend);
  }

  public PerfOptions withTiming(TimingRequest t) {
    return new PerfOptions(precisions, batches, shapes, t, backend);
  }

  public PerfOptions withBackend(@CheckForNull String b) {
    return new PerfOptions(precisions, batches, shapes, timing, b);
  }

  private static void checkPrecision(String p) {
    Preconditions.checkNotNull(p, "precision");
    String l = p.toLowerCase(Locale.ROOT);
    if (l.startsWith("plan:")) {
      Preconditions.checkArgument(
          p.length() > 5, "precision plan: needs a file, e.g. plan:plan.json");
      return;
    }
    Preconditions.checkArgument(
        List.of("fp32", "tf32", "fp16", "bf16").contains(l),
        "unknown precision '%s': expected fp32, tf32, fp16, bf16 or plan:FILE",
        p);
  }
}
