package dev.halfbisect.core.data;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reference values saved for reuse (Polygraphy's {@code --save-outputs}/{@code --load-outputs}):
 * per sample, tensor name to value, with the digests of the model and of the inputs they were
 * computed from and the backend that computed them. A loaded file is only used for the same model
 * and the same inputs ({@link #requireMatch}), so a TensorRT FP32 reference is built once per model
 * and inputs.
 *
 * <p>The file is an {@code .npz} (numpy reads it): member {@code <sample>/<tensor name>.npy} per
 * value and one header array {@code halfbisect-outputs.npy} holding the UTF-8 bytes of
 *
 * <pre>
 * halfbisect-outputs/1
 * model=&lt;sha256 of the model bytes&gt;
 * inputs=&lt;sha256 of the samples&gt;
 * backend=&lt;backend:mode&gt;
 * samples=&lt;N&gt;
 * </pre>
 */
public final class SavedOutputs {
  /** First line of the header; a new layout gets a new number. */
  public static final String FORMAT = "halfbisect-outputs/1";

  static final String HEADER = "halfbisect-outputs";

  private final String modelDigest;
  private final String inputsDigest;
  private final String backend;
  private final ImmutableList<ImmutableMap<String, Tensor>> samples;

  private SavedOutputs(
      String modelDigest,
      String inputsDigest,
      String backend,
      ImmutableList<ImmutableMap<String, Tensor>> samples) {
    this.modelDigest = modelDigest;
    this.inputsDigest = inputsDigest;
    this.backend = backend;
    this.samples = samples;
  }

  /**
   * @param modelDigest {@link #modelDigest(byte[])} of the model
   * @param inputsDigest {@link #inputsDigest(List)} of the samples the values were computed from
   * @param backend who computed them, e.g. {@code trt:fp32}
   * @param samples per sample, tensor name to value
   */
  public static SavedOutputs of(
      String modelDigest,
      String inputsDigest,
      String backend,
      List<? extends Map<String, Tensor>> samples) {
    Preconditions.checkArgument(!modelDigest.isBlank(), "empty model digest");
    Preconditions.checkArgument(!inputsDigest.isBlank(), "empty inputs digest");
    Preconditions.checkArgument(!backend.contains("\n"), "backend name with a line break");
    ImmutableList.Builder<ImmutableMap<String, Tensor>> b = ImmutableList.builder();
    for (Map<String, Tensor> s : samples) {
      b.add(ImmutableMap.copyOf(s));
    }
    return new SavedOutputs(modelDigest, inputsDigest, backend, b.build());
  }

  /** SHA-256 (hex) of a model's serialized bytes. */
  public static String modelDigest(byte[] modelBytes) {
    return Hashing.sha256().hashBytes(modelBytes).toString();
  }

  /** SHA-256 (hex) of samples: names (sorted), dtypes, shapes and bytes, sample by sample. */
  public static String inputsDigest(List<? extends Map<String, Tensor>> samples) {
    Hasher h = Hashing.sha256().newHasher();
    for (Map<String, Tensor> s : samples) {
      for (Map.Entry<String, Tensor> e : new TreeMap<>(s).entrySet()) {
        h.putUnencodedChars(e.getKey()).putInt(e.getValue().dtype().onnxCode());
        for (long d : e.getValue().shape()) {
          h.putLong(d);
        }
        h.putBytes(e.getValue().bytes().duplicate());
      }
      h.putChar('|');
    }
    return h.hash().toString();
  }

  public String modelDigest() {
    return modelDigest;
  }

  public String inputsDigest() {
    return inputsDigest;
  }

  public String backend() {
    return backend;
  }

  /** Per sample, tensor name to value. */
  public ImmutableList<ImmutableMap<String, Tensor>> samples() {
    return samples;
  }

  /** The saved values belong to another model or other inputs. */
  public static final class Mismatch extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    Mismatch(String message) {
      super(message);
    }
  }

  /**
   * Throws {@link Mismatch} naming {@code source} when these values were not computed from the
   * model and inputs with these digests.
   */
  public void requireMatch(String modelDigest, String inputsDigest, String source) {
    if (!this.modelDigest.equals(modelDigest)) {
      throw new Mismatch(
          source
              + ": saved outputs were computed from another model (sha256 "
              + abbrev(this.modelDigest)
              + ", this model "
              + abbrev(modelDigest)
              + "); save them again with --save-outputs");
    }
    if (!this.inputsDigest.equals(inputsDigest)) {
      throw new Mismatch(
          source
              + ": saved outputs were computed from other inputs (sha256 "
              + abbrev(this.inputsDigest)
              + ", these inputs "
              + abbrev(inputsDigest)
              + "); use the same --input/--load-inputs/--samples/--seed or save them again");
    }
  }

  private static String abbrev(String digest) {
    return digest.length() > 12 ? digest.substring(0, 12) : digest;
  }

  /**
   * Writes the values as an {@code .npz} file (see the class comment), atomically: a symbolic link
   * at {@code file} is replaced, not followed, and a failed write leaves the old file.
   */
  public void write(Path file) throws IOException {
    dev.halfbisect.core.io.SafeFiles.write(file, toBytes());
  }

  /** The bytes {@link #write} writes. */
  public byte[] toBytes() {
    Map<String, Tensor> arrays = new LinkedHashMap<>();
    String header =
        FORMAT
            + "\nmodel="
            + modelDigest
            + "\ninputs="
            + inputsDigest
            + "\nbackend="
            + backend
            + "\nsamples="
            + samples.size()
            + "\n";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    arrays.put(HEADER, Tensor.ofBytes(DType.UINT8, new long[] {h.length}, h));
    for (int s = 0; s < samples.size(); s++) {
      for (Map.Entry<String, Tensor> e : samples.get(s).entrySet()) {
        arrays.put(s + "/" + e.getKey(), e.getValue());
      }
    }
    return Npz.toBytes(arrays);
  }

  /** Reads a file {@link #write} wrote; errors name the file and what is wrong. */
  public static SavedOutputs read(Path file) throws IOException {
    return parse(Npz.read(file), file.toString());
  }

  static SavedOutputs parse(Map<String, Tensor> arrays, String source) {
    Tensor h = arrays.get(HEADER);
    if (h == null) {
      throw new NpyFormatException(
          source,
          "not a halfbisect outputs file (no "
              + HEADER
              + ".npy): --load-outputs reads what --save-outputs wrote; a plain .npz of"
              + " outputs, such as reduce's reference.npz, does not say which model, inputs and"
              + " backend made it");
    }
    Map<String, String> fields = new LinkedHashMap<>();
    String[] lines = text(h).split("\n");
    if (!lines[0].equals(FORMAT)) {
      throw new NpyFormatException(
          source, "outputs file format '" + lines[0] + "' is not " + FORMAT);
    }
    for (int i = 1; i < lines.length; i++) {
      int eq = lines[i].indexOf('=');
      if (eq > 0) {
        fields.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
      }
    }
    for (String f : List.of("model", "inputs", "backend", "samples")) {
      if (!fields.containsKey(f)) {
        throw new NpyFormatException(source, "outputs header lacks '" + f + "='");
      }
    }
    int n;
    try {
      n = Integer.parseInt(fields.get("samples"));
    } catch (NumberFormatException e) {
      throw new NpyFormatException(source, "outputs header: samples=" + fields.get("samples"));
    }
    if (n < 0 || n > arrays.size()) {
      throw new NpyFormatException(source, "outputs header: samples=" + n);
    }
    List<Map<String, Tensor>> samples = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      samples.add(new LinkedHashMap<>());
    }
    for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
      if (e.getKey().equals(HEADER)) {
        continue;
      }
      int slash = e.getKey().indexOf('/');
      int s = -1;
      if (slash > 0) {
        try {
          s = Integer.parseInt(e.getKey().substring(0, slash));
        } catch (NumberFormatException notASample) {
          s = -1;
        }
      }
      if (s < 0 || s >= n) {
        throw new NpyFormatException(
            source + "!" + e.getKey() + ".npy",
            "member is not <sample>/<tensor> with a sample below " + n);
      }
      samples.get(s).put(e.getKey().substring(slash + 1), e.getValue());
    }
    return of(fields.get("model"), fields.get("inputs"), fields.get("backend"), samples);
  }

  private static String text(Tensor t) {
    java.nio.ByteBuffer b = t.bytes().duplicate();
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
