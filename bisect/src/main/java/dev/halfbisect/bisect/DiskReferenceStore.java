package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import com.google.common.hash.Hashing;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.data.Npz;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ReferenceStore} in a folder: one sub-folder per run, named by the SHA-256 of the model
 * hash, the samples hash, the reference {@code backend:mode} and its build properties; in it one
 * {@code .npz} per tensor (members {@code s0, s1, ...}, one per sample) named by the tensor name's
 * hash, and a {@code .why} text file per tensor the reference cannot observe. Files are written to
 * a temporary name and moved into place, so a crash leaves no half file. A run folder's time stamp
 * is touched on use: the oldest are deleted first when the folder exceeds its size cap, and those
 * older than the age limit when a run opens. Only folders this store made (names of 64 hex digits
 * with a {@code .halfbisect-ref} marker) are ever deleted.
 */
final class DiskReferenceStore implements ReferenceStore {
  private static final Logger LOG = LoggerFactory.getLogger(DiskReferenceStore.class);
  static final String MARKER = ".halfbisect-ref";

  private final Path dir;
  private final long maxBytes;
  private final int maxAgeDays;

  DiskReferenceStore(Path dir, long maxBytes, int maxAgeDays) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.maxAgeDays = maxAgeDays;
  }

  @Override
  public Run forRun(
      ModelGraph model, List<? extends Map<String, Tensor>> samples, ProbeBackends backends) {
    String key =
        Hashing.sha256()
            .hashString(
                model.hash()
                    + '|'
                    + ProbeKeys.hashSamples(samples)
                    + '|'
                    + backends.referenceLabel()
                    + '|'
                    + new TreeMap<>(backends.referenceOptions().identityProperties()),
                StandardCharsets.UTF_8)
            .toString();
    Path runDir = dir.resolve(key);
    try {
      Files.createDirectories(runDir);
      Path marker = runDir.resolve(MARKER);
      if (!Files.exists(marker)) {
        Files.writeString(
            marker, model.name() + " " + backends.referenceLabel() + "\n", StandardCharsets.UTF_8);
      }
      touch(runDir);
      deleteStale(runDir);
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("reference cache {} is not usable ({}); running the reference", dir, e.getMessage());
      return Run.NONE;
    }
    return new DiskRun(runDir);
  }

  /** Run folders this store made, oldest first. */
  private List<Path> runFolders() throws IOException {
    List<Path> runs = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return runs;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (p.getFileName().toString().matches("[0-9a-f]{64}") && Files.exists(p.resolve(MARKER))) {
          runs.add(p);
        }
      }
    }
    runs.sort(Comparator.comparing(DiskReferenceStore::modified));
    return runs;
  }

  private void deleteStale(Path keep) throws IOException {
    Instant limit = Instant.now().minus(Duration.ofDays(maxAgeDays));
    for (Path run : runFolders()) {
      if (!run.equals(keep) && modified(run).toInstant().isBefore(limit)) {
        LOG.info("reference cache: deleting run {} unused for over {} days", run, maxAgeDays);
        deleteRun(run);
      }
    }
  }

  /**
   * Deletes the oldest other runs until the folder fits; false when {@code current} alone won't.
   */
  private synchronized boolean makeRoom(Path current, long adding) throws IOException {
    Map<Path, Long> sizes = new LinkedHashMap<>();
    long total = 0;
    for (Path run : runFolders()) {
      long s = size(run);
      sizes.put(run, s);
      total += s;
    }
    for (Map.Entry<Path, Long> e : sizes.entrySet()) {
      if (total + adding <= maxBytes) {
        break;
      }
      if (!e.getKey().equals(current)) {
        LOG.info("reference cache over {} bytes: deleting oldest run {}", maxBytes, e.getKey());
        deleteRun(e.getKey());
        total -= e.getValue();
      }
    }
    return total + adding <= maxBytes;
  }

  private long totalSize() throws IOException {
    long t = 0;
    for (Path run : runFolders()) {
      t += size(run);
    }
    return t;
  }

  private static long size(Path run) throws IOException {
    try (Stream<Path> files = Files.list(run)) {
      return files
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    }
  }

  private static void deleteRun(Path run) throws IOException {
    try (Stream<Path> files = Files.list(run)) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
    }
    Files.deleteIfExists(run);
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  private static void touch(Path p) throws IOException {
    Files.setLastModifiedTime(p, FileTime.from(Instant.now()));
  }

  private static String fileName(String tensor) {
    return Hashing.sha256().hashString(tensor, StandardCharsets.UTF_8).toString().substring(0, 32);
  }

  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = Files.createTempFile(target.getParent(), ".tmp-", ".part");
    try {
      Files.write(tmp, bytes);
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** One run's folder. */
  private final class DiskRun implements Run {
    private final Path runDir;
    private boolean full;
    private long total = -1; // bytes of the store's folders, counted once, then kept up to date

    DiskRun(Path runDir) {
      this.runDir = runDir;
    }

    @Override
    public Optional<ImmutableList<Tensor>> load(String tensor) {
      Path f = runDir.resolve(fileName(tensor) + ".npz");
      if (!Files.exists(f)) {
        return Optional.empty();
      }
      try {
        Map<String, Tensor> m = Npz.read(f);
        ImmutableList.Builder<Tensor> out = ImmutableList.builder();
        for (int s = 0; s < m.size(); s++) {
          Tensor t = m.get("s" + s);
          if (t == null) {
            return Optional.empty();
          }
          out.add(t);
        }
        return Optional.of(out.build());
      } catch (IOException | RuntimeException e) {
        LOG.warn("reference cache file {} is unreadable ({}); ignoring it", f, e.getMessage());
        return Optional.empty();
      }
    }

    @Override
    public Optional<String> unavailable(String tensor) {
      Path f = runDir.resolve(fileName(tensor) + ".why");
      try {
        return Files.exists(f)
            ? Optional.of(Files.readString(f, StandardCharsets.UTF_8))
            : Optional.empty();
      } catch (IOException e) {
        return Optional.empty();
      }
    }

    @Override
    public synchronized void save(String tensor, List<Tensor> perSample) {
      if (full) {
        return;
      }
      Map<String, Tensor> m = new LinkedHashMap<>();
      for (int s = 0; s < perSample.size(); s++) {
        m.put("s" + s, perSample.get(s));
      }
      try {
        byte[] bytes = Npz.toBytes(m);
        if (total < 0 || total + bytes.length > maxBytes) {
          if (!makeRoom(runDir, bytes.length)) {
            full = true;
            LOG.info(
                "reference cache: this run exceeds the cap of {} bytes; not storing more of it",
                maxBytes);
            return;
          }
          total = totalSize();
        }
        writeAtomically(runDir.resolve(fileName(tensor) + ".npz"), bytes);
        total += bytes.length;
      } catch (IOException | UncheckedIOException e) {
        full = true;
        LOG.warn("reference cache: cannot write under {}: {}", runDir, e.getMessage());
      }
    }

    @Override
    public synchronized void saveUnavailable(String tensor, String reason) {
      try {
        writeAtomically(
            runDir.resolve(fileName(tensor) + ".why"), reason.getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        LOG.warn("reference cache: cannot write under {}: {}", runDir, e.getMessage());
      }
    }
  }
}
