package dev.halfbisect.onnx;

import com.google.common.base.Preconditions;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import dev.halfbisect.core.backend.ModelRef;
import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.annotation.Nullable;

/**
 * An immutable ONNX model: the parsed {@code ModelProto} plus the folder its external data lives in
 * and a display name for messages.
 *
 * <p><b>Node names.</b> Every node of the main graph has a unique, non-empty name once wrapped
 * (precision plans and TensorRT layers refer to nodes by name): an unnamed node at position k gets
 * {@code <OpType>_<k>}; a node whose name repeats an earlier node's name, or whose generated name
 * is taken, gets the first free {@code <name>__<n>} (n = 1, 2, ...). Names given in the file are
 * never taken away from their first owner, so the renaming is deterministic for a given file.
 *
 * <p><b>External data.</b> Tensors with {@code data_location = EXTERNAL} stay references: their
 * location is checked at load (relative, inside the model folder, also after resolving symlinks,
 * offset + length inside the file) but payloads are memory-mapped only when a caller reads them
 * ({@link TensorData}, {@link InitializerRangeReport}, saving inline). A model whose weights exceed
 * the heap can therefore be loaded, indexed and rewritten.
 *
 * <p>Unknown protobuf fields (from newer ONNX versions) are kept through load and save.
 */
public final class OnnxModel {
  /** Largest protobuf message Java can parse or write: one byte array. */
  static final long PROTOBUF_LIMIT = Integer.MAX_VALUE - 8;

  private final Onnx.ModelProto proto;
  private final Path baseDir;
  private final String name;
  private volatile GraphIndex index;

  private OnnxModel(Onnx.ModelProto proto, @Nullable Path baseDir, String name) {
    this.proto = proto;
    this.baseDir = baseDir;
    this.name = name;
  }

  /**
   * Reads and checks a model file: parses it, names unnamed nodes, validates external data
   * references (without reading them) and builds the {@link GraphIndex}.
   *
   * @throws MalformedModelException naming the file when it is not a valid ONNX model
   * @throws ExternalDataException when an external data reference is unusable
   */
  public static OnnxModel load(Path file) {
    Preconditions.checkNotNull(file, "file");
    Path abs = file.toAbsolutePath().normalize();
    byte[] bytes;
    try {
      long size = Files.size(abs);
      if (size > PROTOBUF_LIMIT) {
        throw new MalformedModelException(
            "model file "
                + file
                + " is "
                + size
                + " bytes; protobuf caps an ONNX file at 2 GB (larger models keep their weights in external data)");
      }
      bytes = Files.readAllBytes(abs);
    } catch (IOException e) {
      throw new OnnxModelException("cannot read model file " + file + ": " + e, e);
    }
    return parse(bytes, abs.getParent(), file.toString());
  }

  /**
   * Parses serialized model bytes (aliased, not copied: do not change them afterwards) and checks
   * them like {@link #load(Path)}.
   *
   * @param baseDir folder external data is resolved against; null when there is none
   * @param displayName the name used in messages, usually the file name
   */
  public static OnnxModel parse(byte[] bytes, @Nullable Path baseDir, String displayName) {
    Preconditions.checkNotNull(bytes, "bytes");
    Preconditions.checkNotNull(displayName, "displayName");
    Onnx.ModelProto proto;
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.enableAliasing(true); // raw_data ByteStrings share the array instead of copying weights
      in.setSizeLimit(Integer.MAX_VALUE); // default is 64 MB for streams; files go up to 2 GB
      in.setRecursionLimit(400); // nested If/Loop bodies
      proto = Onnx.ModelProto.parseFrom(in);
    } catch (IOException e) {
      throw new MalformedModelException(
          "cannot parse "
              + displayName
              + " as an ONNX model ("
              + bytes.length
              + " bytes): "
              + e.getMessage(),
          e);
    } catch (RuntimeException e) {
      throw new MalformedModelException(
          "cannot parse " + displayName + " as an ONNX model (" + bytes.length + " bytes): " + e,
          e);
    }
    if (!proto.hasGraph()) {
      throw new MalformedModelException(
          displayName
              + " is not an ONNX model: it has no graph ("
              + bytes.length
              + " bytes; truncated or not a model file?)");
    }
    OnnxModel m = of(proto, baseDir, displayName);
    if (baseDir != null) {
      m.checkExternalReferences();
    }
    m.index();
    return m;
  }

  /**
   * Wraps a proto without further checks (index errors surface on {@link #index()}); unnamed and
   * duplicate-named nodes are named as described in the class comment.
   */
  public static OnnxModel of(Onnx.ModelProto proto, @Nullable Path baseDir, String displayName) {
    Preconditions.checkNotNull(proto, "proto");
    Preconditions.checkNotNull(displayName, "displayName");
    Path dir = baseDir == null ? null : baseDir.toAbsolutePath().normalize();
    return new OnnxModel(nameNodes(proto), dir, displayName);
  }

  /** The same model folder and name around another proto (nodes get named as in {@link #of}). */
  public OnnxModel withProto(Onnx.ModelProto p) {
    return of(p, baseDir, name);
  }

  /** The same model with its graph replaced. */
  public OnnxModel withGraph(Onnx.GraphProto g) {
    return withProto(proto.toBuilder().setGraph(g).build());
  }

  public Onnx.ModelProto proto() {
    return proto;
  }

  public Onnx.GraphProto graph() {
    return proto.getGraph();
  }

  public Optional<Path> baseDir() {
    return Optional.ofNullable(baseDir);
  }

  /** Display name for messages (the file name for loaded models). */
  public String name() {
    return name;
  }

  /**
   * The version of the default ONNX operator set ({@code ""} or {@code "ai.onnx"} domain).
   *
   * @throws MalformedModelException when the model imports none
   */
  public long opsetVersion() {
    for (Onnx.OperatorSetIdProto op : proto.getOpsetImportList()) {
      if (op.getDomain().isEmpty() || op.getDomain().equals("ai.onnx")) {
        return op.getVersion();
      }
    }
    throw new MalformedModelException(
        "model " + name + " imports no default-domain (ai.onnx) opset");
  }

  /** The graph index, built on first use and cached. */
  public GraphIndex index() {
    GraphIndex i = index;
    if (i == null) {
      synchronized (this) {
        i = index;
        if (i == null) {
          i = GraphIndex.of(this);
          index = i;
        }
      }
    }
    return i;
  }

  /**
   * The serialized model; external references are kept as they are (relative to {@link
   * #baseDir()}).
   *
   * @throws OnnxModelException when the model is above protobuf's 2 GB limit
   */
  public byte[] toBytes() {
    long size = proto.getSerializedSize();
    if (size > PROTOBUF_LIMIT || size < 0) {
      throw new OnnxModelException(
          "model "
              + name
              + " serializes to more than 2 GB; save it with "
              + "SaveOptions.external() so weights go to an external data file");
    }
    return proto.toByteArray();
  }

  /** A backend reference to this model: its bytes plus the folder of its external data. */
  public ModelRef toModelRef() {
    return ModelRef.ofBytes(name, toBytes(), baseDir);
  }

  /** Saves with every tensor inline (see {@link SaveOptions#inline()}). */
  public void save(Path file) {
    save(file, SaveOptions.inline());
  }

  /**
   * Writes the model (and, for external options, its data file next to it). Files are written to
   * temporary names and moved into place, so saving over the file this model was loaded from is
   * safe. A model whose inline form would exceed 2 GB must be saved with external data.
   *
   * @throws OnnxModelException when the inline form is too large or writing fails
   */
  public void save(Path file, SaveOptions options) {
    Preconditions.checkNotNull(file, "file");
    Preconditions.checkNotNull(options, "options");
    Path target = file.toAbsolutePath().normalize();
    Path dir = target.getParent();
    try {
      Files.createDirectories(dir);
      if (options.isExternal()) {
        saveExternal(target, dir, options);
      } else {
        Onnx.ModelProto inline = inlineProto(target);
        writeAtomically(target, inline);
      }
    } catch (IOException e) {
      throw new OnnxModelException("cannot save model " + name + " to " + file + ": " + e, e);
    }
  }

  private Onnx.ModelProto inlineProto(Path target) {
    long total = proto.getSerializedSize();
    for (Onnx.TensorProto t : graph().getInitializerList()) {
      if (ExternalDataRef.isExternal(t)) {
        long bytes = TensorData.payloadBytes(t);
        total += bytes + 16;
      }
    }
    if (total > PROTOBUF_LIMIT) {
      throw new OnnxModelException(
          "model "
              + name
              + " would be about "
              + total
              + " bytes saved inline to "
              + target
              + ", above protobuf's 2 GB limit; save it with SaveOptions.external()");
    }
    return proto.toBuilder().setGraph(ModelTensors.map(graph(), this::embedded, true)).build();
  }

  /** {@code t} with its external data read in (checked by {@link ExternalDataRef}); else as is. */
  private Onnx.TensorProto embedded(Onnx.TensorProto t) {
    if (!ExternalDataRef.isExternal(t)) {
      return t;
    }
    ByteBuffer data = TensorData.rawBytes(t, baseDir);
    return t.toBuilder()
        .clearExternalData()
        .clearDataLocation()
        .setRawData(ByteString.copyFrom(data))
        .build();
  }

  /**
   * The files this model's external data lives in (absolute, normalized), so that a command can
   * refuse to write over them.
   */
  public List<Path> externalDataFiles() {
    Set<Path> files = new LinkedHashSet<>();
    ModelTensors.forEach(
        graph(),
        t -> {
          if (ExternalDataRef.isExternal(t)) {
            try {
              files.add(ExternalDataRef.resolve(t, baseDir).file().toAbsolutePath().normalize());
            } catch (ExternalDataException e) {
              // unusable references were rejected at load; nothing to protect
            }
          }
        });
    return List.copyOf(files);
  }

  private void saveExternal(Path target, Path dir, SaveOptions options) throws IOException {
    String dataName = options.dataFileName().orElse(target.getFileName() + ".data");
    Path dataFile = dir.resolve(dataName);
    Path tmpData = SafeFiles.createTempBeside(dataFile);
    // Tensors outside the main initializers (Constant attributes, subgraphs) are embedded, so the
    // output never carries a reference relative to the input's folder.
    Onnx.GraphProto.Builder g = ModelTensors.map(graph(), this::embedded, false).toBuilder();
    boolean wroteAny = false;
    try (FileChannel out = FileChannel.open(tmpData, StandardOpenOption.WRITE)) {
      long pos = 0;
      for (int i = 0; i < g.getInitializerCount(); i++) {
        Onnx.TensorProto t = g.getInitializer(i);
        long bytes = TensorData.payloadBytes(t);
        if (bytes < 0) {
          continue; // strings stay inline
        }
        boolean external = ExternalDataRef.isExternal(t);
        if (bytes < options.sizeThreshold() || bytes == 0) {
          if (external) {
            g.setInitializer(
                i,
                t.toBuilder()
                    .clearExternalData()
                    .clearDataLocation()
                    .setRawData(ByteString.copyFrom(TensorData.rawBytes(t, baseDir)))
                    .build());
          }
          continue;
        }
        long aligned = (pos + options.alignment() - 1) / options.alignment() * options.alignment();
        writeTensor(out, aligned, t, bytes);
        pos = aligned + bytes;
        wroteAny = true;
        g.setInitializer(
            i,
            t.toBuilder()
                .clearRawData()
                .clearFloatData()
                .clearInt32Data()
                .clearInt64Data()
                .clearDoubleData()
                .clearUint64Data()
                .clearExternalData()
                .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(entry("location", dataName))
                .addExternalData(entry("offset", Long.toString(aligned)))
                .addExternalData(entry("length", Long.toString(bytes)))
                .build());
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmpData);
      throw e;
    }
    Onnx.ModelProto out = proto.toBuilder().setGraph(g).build();
    if (out.getSerializedSize() > PROTOBUF_LIMIT) {
      Files.deleteIfExists(tmpData);
      throw new OnnxModelException(
          "model "
              + name
              + " is above 2 GB even with external data (threshold "
              + options.sizeThreshold()
              + " bytes); lower the threshold");
    }
    if (wroteAny) {
      SafeFiles.commit(tmpData, dataFile);
    } else {
      Files.deleteIfExists(tmpData);
    }
    writeAtomically(target, out);
  }

  /** Copies one tensor's payload to {@code out} at {@code at}, in pieces for external sources. */
  private void writeTensor(FileChannel out, long at, Onnx.TensorProto t, long bytes)
      throws IOException {
    if (ExternalDataRef.isExternal(t)) {
      ExternalDataRef ref = ExternalDataRef.resolve(t, baseDir);
      if (ref.length() < bytes) {
        throw new MalformedModelException(
            "tensor '"
                + t.getName()
                + "' declares "
                + bytes
                + " bytes but its external data '"
                + ref.location()
                + "' holds "
                + ref.length());
      }
      for (long from = 0; from < bytes; from += ExternalDataRef.MAX_MAP_BYTES) {
        long n = Math.min(ExternalDataRef.MAX_MAP_BYTES, bytes - from);
        writeFully(out, ref.map(from, n), at + from);
      }
    } else {
      writeFully(out, TensorData.rawBytes(t, baseDir), at);
    }
  }

  private static void writeFully(FileChannel out, ByteBuffer src, long at) throws IOException {
    ByteBuffer b = src.duplicate();
    long p = at;
    while (b.hasRemaining()) {
      p += out.write(b, p);
    }
  }

  private static Onnx.StringStringEntryProto entry(String k, String v) {
    return Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  private void writeAtomically(Path target, Onnx.ModelProto p) throws IOException {
    if (p.getSerializedSize() > PROTOBUF_LIMIT) {
      throw new OnnxModelException(
          "model " + name + " serializes to more than 2 GB; use SaveOptions.external()");
    }
    SafeFiles.write(target, p::writeTo);
  }

  /** Resolves every external reference once so bad paths fail at load, naming the tensor. */
  private void checkExternalReferences() {
    // Every tensor, not only main-graph initializers (issue 16): Constant attributes and subgraph
    // initializers carry external data too, and ONNX Runtime reads them all.
    List<Onnx.TensorProto> all = new ArrayList<>();
    ModelTensors.forEach(graph(), all::add);
    for (Onnx.TensorProto t : all) {
      if (ExternalDataRef.isExternal(t)) {
        ExternalDataRef ref = ExternalDataRef.resolve(t, baseDir);
        long need = TensorData.payloadBytes(t);
        if (need >= 0 && ref.length() < need) {
          throw new ExternalDataException(
              "tensor '"
                  + t.getName()
                  + "' declares "
                  + need
                  + " bytes but its external data '"
                  + ref.location()
                  + "' holds only "
                  + ref.length()
                  + " bytes (in "
                  + name
                  + ")");
        }
      }
    }
  }

  /**
   * Gives every main-graph node a unique non-empty name; returns the proto itself if all are fine.
   */
  private static Onnx.ModelProto nameNodes(Onnx.ModelProto proto) {
    Onnx.GraphProto g = proto.getGraph();
    int n = g.getNodeCount();
    Set<String> taken = new HashSet<>(n * 2);
    boolean needsWork = false;
    for (int i = 0; i < n; i++) {
      String nm = g.getNode(i).getName();
      if (nm.isEmpty() || !taken.add(nm)) {
        needsWork = true;
      }
    }
    if (!needsWork) {
      return proto;
    }
    Set<String> seen = new HashSet<>(n * 2);
    Onnx.GraphProto.Builder gb = g.toBuilder();
    for (int i = 0; i < n; i++) {
      Onnx.NodeProto node = g.getNode(i);
      String nm = node.getName();
      if (!nm.isEmpty() && seen.add(nm)) {
        continue; // first owner keeps its name
      }
      String base =
          nm.isEmpty() ? (node.getOpType().isEmpty() ? "node" : node.getOpType()) + "_" + i : nm;
      String candidate = base;
      for (int k = 1; taken.contains(candidate); k++) {
        candidate = base + "__" + k;
      }
      taken.add(candidate);
      seen.add(candidate);
      gb.setNode(i, node.toBuilder().setName(candidate).build());
    }
    return proto.toBuilder().setGraph(gb).build();
  }

  @Override
  public String toString() {
    return "OnnxModel[" + name + ", " + graph().getNodeCount() + " nodes]";
  }
}
