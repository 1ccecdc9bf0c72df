package dev.halfbisect.bisect;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.core.metrics.ErrorStats;
import dev.halfbisect.core.verdict.Verdict;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decided candidate probes as JSON lines: key, probe, times, status, error numbers per tensor and
 * sample. Opening an existing journal loads it, so a search started again with the same model,
 * samples, backend and tolerance reads decided probes instead of building them again. A line that
 * does not parse (e.g. cut off by a crash) is skipped with a warning.
 */
public final class ProbeJournal implements AutoCloseable {
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
  private BufferedWriter out;

  private ProbeJournal(Path file) {
    this.file = file;
  }

  /** Opens (creating if needed) the journal file and loads its entries. */
  public static ProbeJournal open(Path file) throws IOException {
    ProbeJournal j = new ProbeJournal(file);
    if (Files.exists(file)) {
      int lineNo = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        try {
          Entry e = JSON.readValue(line, Entry.class);
          j.entries.put(e.key(), e);
        } catch (IOException ex) {
          LOG.warn("{}:{}: skipping unreadable journal line: {}", file, lineNo, ex.getMessage());
        }
      }
    } else if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    j.out =
        Files.newBufferedWriter(
            file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    return j;
  }

  public Path file() {
    return file;
  }

  public synchronized int size() {
    return entries.size();
  }

  public synchronized Optional<Entry> get(String key) {
    return Optional.ofNullable(entries.get(key));
  }

  public synchronized List<Entry> entries() {
    return ImmutableList.copyOf(entries.values());
  }

  /** Appends and flushes one decided probe. */
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
      out.write(JSON.writeValueAsString(e));
      out.newLine();
      out.flush();
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
