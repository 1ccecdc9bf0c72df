package dev.halfbisect.core.data;

import com.google.common.base.Preconditions;
import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.stream.Stream;

/**
 * A sample set read from files and folders (issue 15): each {@code .npz} is one sample (arrays
 * named like the model inputs), a {@code .npy} one sample of one input named by its file stem, a
 * {@code .json} Polygraphy's inputs (a list of samples, {@link PolygraphyJson}). A folder stands
 * for its {@code .npz}, {@code .npy} and {@code .json} files in name order (not its subfolders).
 * Samples come in the order of the paths given.
 *
 * <p>With a sample axis, every array's leading axis counts samples and is split: sample i of a file
 * holds slice i of each of its arrays ({@link #split}).
 */
public final class SampleFiles {
  private SampleFiles() {}

  /** The file kinds read, as lower-case name endings. */
  public static final List<String> EXTENSIONS = List.of(".npz", ".npy", ".json");

  /**
   * Reads the samples of {@code paths} in order.
   *
   * @param keepAxis with a sample axis: given an input name and its array's rank, whether a slice
   *     keeps the split axis with size 1 (the model's input has the array's rank) or drops it (the
   *     array stacks model-shaped samples); null: no sample axis, each file as it is
   * @throws IOException when a file cannot be read
   * @throws IllegalArgumentException naming the path when it is missing, of an unknown kind, an
   *     empty folder, or its arrays disagree on the number of samples
   */
  public static List<Map<String, Tensor>> load(
      List<Path> paths, BiPredicate<String, Integer> keepAxis) throws IOException {
    Preconditions.checkArgument(!paths.isEmpty(), "no input file given");
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (Path p : paths) {
      for (Path f : files(p)) {
        for (Map<String, Tensor> s : readFile(f)) {
          if (keepAxis == null) {
            out.add(s);
          } else {
            out.addAll(split(s, keepAxis, f.toString()));
          }
        }
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** The input files a path stands for: itself, or a folder's readable files in name order. */
  static List<Path> files(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      List<Path> found;
      try (Stream<Path> s = Files.list(p)) {
        found = s.filter(Files::isRegularFile).filter(SampleFiles::known).sorted().toList();
      }
      if (found.isEmpty()) {
        throw new IllegalArgumentException(
            "folder " + p + " holds no .npz, .npy or .json input file");
      }
      return found;
    }
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException("input file " + p + " not found");
    }
    if (!known(p)) {
      throw new IllegalArgumentException(
          "input file " + p + " must be .npz, .npy (numpy) or .json (Polygraphy --save-inputs)");
    }
    return List.of(p);
  }

  private static boolean known(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return EXTENSIONS.stream().anyMatch(n::endsWith);
  }

  private static List<Map<String, Tensor>> readFile(Path f) throws IOException {
    String n = f.getFileName().toString();
    String lower = n.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".json")) {
      return PolygraphyJson.read(f);
    }
    if (lower.endsWith(".npy")) {
      return List.of(Map.of(n.substring(0, n.length() - ".npy".length()), Npy.read(f)));
    }
    return List.of(Npz.read(f));
  }

  /**
   * Splits one file's arrays along their leading axis into samples.
   *
   * @param keepAxis per input name and array rank: keep the split axis with size 1, or drop it
   * @param source names the file in errors
   */
  public static List<Map<String, Tensor>> split(
      Map<String, Tensor> arrays, BiPredicate<String, Integer> keepAxis, String source) {
    long count = -1;
    String first = null;
    for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
      Tensor t = e.getValue();
      if (t.rank() == 0) {
        throw new IllegalArgumentException(
            source + ": array '" + e.getKey() + "' is a scalar and has no sample axis to split");
      }
      if (count >= 0 && t.dim(0) != count) {
        throw new IllegalArgumentException(
            source
                + ": arrays disagree on the number of samples (leading axis): '"
                + first
                + "' has "
                + count
                + ", '"
                + e.getKey()
                + "' has "
                + t.dim(0));
      }
      count = t.dim(0);
      first = first == null ? e.getKey() : first;
    }
    List<Map<String, Tensor>> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Map<String, Tensor> s = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
        s.put(e.getKey(), slice(e.getValue(), i, keepAxis.test(e.getKey(), e.getValue().rank())));
      }
      out.add(Collections.unmodifiableMap(s));
    }
    return out;
  }

  /** Slice {@code i} of {@code t}'s leading axis, with that axis kept as size 1 or dropped. */
  public static Tensor slice(Tensor t, int i, boolean keepAxis) {
    long[] shape = t.shape();
    Preconditions.checkArgument(shape.length > 0 && i >= 0 && i < shape[0], "slice %s", i);
    long[] rest = Arrays.copyOfRange(shape, 1, shape.length);
    int bytes = (int) (Tensor.elementCount(rest) * t.dtype().byteSize());
    ByteBuffer b = t.bytes().duplicate();
    b.position(i * bytes).limit((i + 1) * bytes);
    long[] outShape = rest;
    if (keepAxis) {
      outShape = new long[shape.length];
      System.arraycopy(shape, 1, outShape, 1, rest.length);
      outShape[0] = 1;
    }
    return Tensor.ofBytes(t.dtype(), outShape, b.slice());
  }
}
