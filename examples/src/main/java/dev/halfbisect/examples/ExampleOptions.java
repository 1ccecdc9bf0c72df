package dev.halfbisect.examples;

import com.google.common.base.Preconditions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How to run an example: where to print, which backends to compare (defaults of the facade when
 * absent: TensorRT if present, else {@code ort:fp32} vs {@code ort:fp16-emulated}), and an optional
 * report folder. Immutable.
 */
public final class ExampleOptions {
  private final PrintStream out;
  private final String reference;
  private final String candidate;
  private final Path outDir;

  private ExampleOptions(PrintStream out, String reference, String candidate, Path outDir) {
    this.out = out;
    this.reference = reference;
    this.candidate = candidate;
    this.outDir = outDir;
  }

  /** Prints to standard output; backends chosen by the facade. */
  public static ExampleOptions defaults() {
    return new ExampleOptions(System.out, null, null, null);
  }

  /** The CPU pair every example test uses: {@code ort:fp32} vs {@code ort:fp16-emulated}. */
  public static ExampleOptions emulated(PrintStream out) {
    return new ExampleOptions(out, "ort:fp32", "ort:fp16-emulated", null);
  }

  public ExampleOptions withOut(PrintStream o) {
    Preconditions.checkNotNull(o, "out");
    return new ExampleOptions(o, reference, candidate, outDir);
  }

  public ExampleOptions withReference(String spec) {
    return new ExampleOptions(out, spec, candidate, outDir);
  }

  public ExampleOptions withCandidate(String spec) {
    return new ExampleOptions(out, reference, spec, outDir);
  }

  public ExampleOptions withOutDir(Path dir) {
    return new ExampleOptions(out, reference, candidate, dir);
  }

  public PrintStream out() {
    return out;
  }

  public Optional<String> reference() {
    return Optional.ofNullable(reference);
  }

  public Optional<String> candidate() {
    return Optional.ofNullable(candidate);
  }

  public Optional<Path> outDir() {
    return Optional.ofNullable(outDir);
  }
}
