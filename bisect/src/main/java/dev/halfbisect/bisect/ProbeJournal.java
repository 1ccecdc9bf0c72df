package dev.halfbisect.bisect;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.io.SafeFiles;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.verdict.Verdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decided candidate probes as JSON lines: a digest line naming the run's configuration, then per
 * probe key, probe, times, status, error numbers per tensor and sample; each line is forced to disk
 * when written. Opening an existing journal loads it, so a search started again with the same
 * model, samples, backend and tolerance reads decided probes instead of building them again. A line
 * that does not parse (e.g. cut off by a crash) is skipped with a warning.
 */
public final class ProbeJournal implements AutoCloseable {
  private static final String DIGEST = "digest";
  private static final Logger LOG = LoggerFactory.getLogger(ProbeJournal.class);
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  /** Per-tensor numbers of one journaled probe, one array element per sample. */
  public record TensorEntry(String tensor, List<ErrorStats> stats, List<Verdict> verdicts) {}

  /** One line of the journal. */
  public record Entry(
      String key,
      String model,
      String kind,
      String side,
      List<String> fp32Nodes,
      List<String> observed,
      List<String> nodes,
      String status,
      String message,
      long buildMillis,
      long runMillis,
      List<TensorEntry> tensors) {}

  private final Path file;
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private String digest;
  private FileChannel out;

  private ProbeJournal(Path file) {
    this.file = file;
  }

  /**
   * Opens (creating if needed) the journal file and loads its entries. A symlink or a non-regular
   * file at {@code file} is refused ({@link dev.halfbisect.core.io.UnsafeTargetException}).
   */
  public static ProbeJournal open(Path file) throws IOException {
    ProbeJournal j = new ProbeJournal(file);
    SafeFiles.checkTarget(file);
    boolean endsCut = false;
    if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      int lineNo = 0;
      String text = Files.readString(file, StandardCharsets.UTF_8);
      endsCut = !text.isEmpty() && !text.endsWith("\n");
      for (String line : text.split("\n", -1)) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        try {
          JsonNode node = JSON.readTree(line);
          if (node.has(DIGEST) && !node.has("key")) {
            j.digest = node.get(DIGEST).asText();
            continue;
          }
          Entry e = JSON.treeToValue(node, Entry.class);
          if (e.key() != null) {
            j.entries.put(e.key(), e);
          }
        } catch (IOException ex) {
          LOG.warn("{}:{}: skipping unreadable journal line: {}", file, lineNo, ex.getMessage());
        }
      }
    }
    j.out = SafeFiles.openAppend(file);
    if (endsCut) {
      j.append(""); // a line cut off by a kill must not swallow the next record
    }
    return j;
  }

  /**
   * Opens a new, empty journal at {@code file}, replacing what is there (the command line's {@code
   * --fresh}).
   */
  public static ProbeJournal fresh(Path file) throws IOException {
    SafeFiles.write(file, new byte[0]);
    return open(file);
  }

  /**
   * Binds the journal to the digest of a run's configuration (model, samples, backends, build
   * properties, tolerance). Entries written under another digest cannot answer this run: they are
   * dropped and the file starts over with the new digest line, so a changed model or tolerance
   * never reads stale probes and the journal does not grow with dead entries.
   */
  synchronized void bind(String runDigest) {
    if (runDigest.equals(digest)) {
      return;
    }
    try {
      if (digest != null || !entries.isEmpty()) {
        if (!entries.isEmpty()) {
          LOG.info(
              "{}: {} journaled probes are for another model, inputs, backend or tolerance; "
                  + "starting over",
              file,
              entries.size());
        }
        entries.clear();
        out.close();
        SafeFiles.write(file, new byte[0]);
        out = SafeFiles.openAppend(file);
      }
      digest = runDigest;
      append(JSON.writeValueAsString(Map.of(DIGEST, runDigest)));
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write probe journal " + file, ex);
    }
  }

  /** The digest this journal's entries were decided under, if it has one. */
  public synchronized Optional<String> digest() {
    return Optional.ofNullable(digest);
  }

  private void append(String line) throws IOException {
    ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      out.write(b);
    }
    out.force(false); // one decided probe survives a kill -9 or a power cut
  }

  public Path file() {
    return file;
  }

  public synchronized int size() {
    return entries.size();
  }

  /**
   * Decided probes in the journal at {@code file} without opening it for writing (the interrupted
   * command's notice reads it while the run's own handle is open): its entry lines, not the digest
   * line nor a line cut off by a kill. 0 when there is no such regular file or it cannot be read.
   */
  public static long countEntries(Path file) {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    try (java.util.stream.Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
      return lines.filter(l -> l.startsWith("{\"key\"") && l.endsWith("}")).count();
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  public synchronized Optional<Entry> get(String key) {
    return Optional.ofNullable(entries.get(key));
  }

  public synchronized List<Entry> entries() {
    return ImmutableList.copyOf(entries.values());
  }

  /** Appends one decided probe and forces it to disk. */
  synchronized void record(String key, String model, ProbeResult r) {
    List<TensorEntry> tensors = new ArrayList<>();
    for (TensorComparison c : r.tensors().values()) {
      tensors.add(
          new TensorEntry(
              c.tensor(),
              c.perSample().stream().map(TensorError::stats).toList(),
              c.perSample().stream().map(TensorError::verdict).toList()));
    }
    ProbeSpec s = r.spec();
    Entry e =
        new Entry(
            key,
            model,
            s.kind().name(),
            s.side().name(),
            List.copyOf(s.plan().fp32Nodes()),
            s.observed(),
            s.nodes(),
            r.status().name(),
            r.message(),
            r.buildTime().toMillis(),
            r.runTime().toMillis(),
            tensors);
    entries.put(key, e);
    try {
      append(JSON.writeValueAsString(e));
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot write probe journal " + file, ex);
    }
  }

  /** The result a journal entry stands for. */
  static ProbeResult toResult(ProbeSpec spec, Entry e) {
    ImmutableMap.Builder<String, TensorComparison> b = ImmutableMap.builder();
    for (TensorEntry t : e.tensors()) {
      List<TensorError> per = new ArrayList<>();
      for (int i = 0; i < t.stats().size(); i++) {
        per.add(new TensorError(t.stats().get(i), t.verdicts().get(i)));
      }
      b.put(t.tensor(), TensorComparison.of(t.tensor(), per));
    }
    return new ProbeResult(
        spec,
        ProbeResult.Status.valueOf(e.status()),
        e.message(),
        b.buildKeepingLast(),
        Duration.ofMillis(e.buildMillis()),
        Duration.ofMillis(e.runMillis()),
        true);
  }

  @Override
  public synchronized void close() throws IOException {
    if (out != null) {
      out.close();
      out = null;
    }
  }
}
