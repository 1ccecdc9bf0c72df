package dev.halfbisect.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.html.HtmlEscapers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report of one analysis: a JSON document in the stable {@code halfbisect/1} schema (top level
 * {@code schema}, {@code command}, {@code model}, {@code backend}, {@code verdict}, {@code builds}
 * and command-specific fields such as {@code tensors}, {@code firstFailing}, {@code nodes},
 * {@code byOpType}, {@code fp32Nodes}, {@code fp16Fraction}) and its renderings as console text,
 * Markdown and a self-contained HTML page. A report read back from JSON renders the same.
 */
public final class AnalysisReport {
  /** The value of the top-level {@code schema} field. */
  public static final String SCHEMA = "halfbisect/1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TABLE_ROWS = 40;

  private final ObjectNode doc;

  private AnalysisReport(ObjectNode doc) {
    this.doc = doc;
  }

  static AnalysisReport of(ObjectNode doc) {
    return new AnalysisReport(doc.deepCopy());
  }

  /**
   * Reads a report written by {@link #toJson()}.
   *
   * @throws IllegalArgumentException when the text is not a halfbisect/1 document
   */
  public static AnalysisReport fromJson(String json) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a JSON document: " + e.getOriginalMessage());
    }
    if (n == null || !n.isObject() || !SCHEMA.equals(n.path("schema").asText())) {
      throw new IllegalArgumentException("not a halfbisect report: expected a JSON object with \"schema\": \"" + SCHEMA + "\"");
    }
    return new AnalysisReport((ObjectNode) n);
  }

  /** The analysing command: compare, layerwise, bisect, amplify, precision, reduce, diagnose. */
  public String command() {
    return doc.path("command").asText();
  }

  /** Whether the candidate passed. */
  public boolean passed() {
    return "pass".equals(doc.path("verdict").asText());
  }

  /** A copy of the JSON tree. */
  public JsonNode json() {
    return doc.deepCopy();
  }

  /** Pretty-printed JSON, ending in a newline. */
  public String toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@link #toHtml()} to {@code file}, creating its folder. */
  public Path writeHtml(Path file) {
    return write(file, toHtml());
  }

  static Path write(Path file, String text) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, text, StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Plain text for a terminal: verdict, first failing tensor and why, the table, the fix. */
  public String toConsole() {
    StringBuilder sb = new StringBuilder();
    sb.append(headline()).append('\n');
    for (JsonNode n : doc.path("notes")) {
      sb.append("note: ").append(n.asText()).append('\n');
    }
    JsonNode ff = doc.path("firstFailing");
    if (ff.isObject()) {
      sb.append("first failing tensor: ").append(ff.path("tensor").asText()).append(" (")
          .append(ff.path("opType").asText()).append(" node ").append(ff.path("node").asText()).append(")");
      if (ff.has("normalizedError")) {
        sb.append(", normalized error ").append(num(ff.path("normalizedError")));
      }
      sb.append('\n');
      if (ff.has("rootCause")) {
        sb.append("root cause: ").append(ff.path("rootCause").asText()).append('\n');
      }
    }
    for (Table t : tables()) {
      sb.append('\n').append(t.title).append('\n');
      int[] w = new int[t.header.size()];
      for (int c = 0; c < w.length; c++) {
        w[c] = t.header.get(c).length();
        for (List<String> r : t.rows) {
          w[c] = Math.max(w[c], Math.min(48, r.get(c).length()));
        }
      }
      appendRow(sb, t.header, w);
      for (List<String> r : t.rows) {
        appendRow(sb, r, w);
      }
      if (t.omitted > 0) {
        sb.append("  ... ").append(t.omitted).append(" more row(s) in the JSON/HTML report\n");
      }
    }
    if (doc.has("fix")) {
      sb.append("\nfix: ").append(doc.path("fix").asText()).append('\n');
    }
    return sb.toString();
  }

  private static void appendRow(StringBuilder sb, List<String> cells, int[] w) {
    sb.append("  ");
    for (int c = 0; c < cells.size(); c++) {
      String s = cells.get(c);
      if (s.length() > 48) {
        s = s.substring(0, 45) + "...";
      }
      sb.append(String.format(Locale.ROOT, "%-" + w[c] + "s", s)).append(c + 1 < cells.size() ? "  " : "");
    }
    sb.append('\n');
  }

  /** GitHub-flavoured Markdown. */
  public String toMarkdown() {
    StringBuilder sb = new StringBuilder("# halfbisect " + command() + ": " + doc.path("model").asText() + "\n\n");
    sb.append("**").append(headline()).append("**\n\n");
    sb.append("- reference: `").append(doc.path("backend").path("reference").asText()).append("`, candidate: `")
        .append(doc.path("backend").path("candidate").asText()).append("`, candidate builds: ")
        .append(doc.path("builds").asInt()).append('\n');
    for (JsonNode n : doc.path("notes")) {
      sb.append("- ").append(n.asText()).append('\n');
    }
    JsonNode ff = doc.path("firstFailing");
    if (ff.isObject()) {
      sb.append("\n## First failing tensor\n\n`").append(ff.path("tensor").asText()).append("` produced by `")
          .append(ff.path("node").asText()).append("` (").append(ff.path("opType").asText()).append(")");
      if (ff.has("rootCause")) {
        sb.append(": ").append(ff.path("rootCause").asText());
      }
      sb.append("\n");
    }
    for (Table t : tables()) {
      sb.append("\n## ").append(t.title).append("\n\n|");
      t.header.forEach(h -> sb.append(' ').append(h).append(" |"));
      sb.append("\n|");
      t.header.forEach(h -> sb.append("---|"));
      sb.append('\n');
      for (List<String> r : t.rows) {
        sb.append('|');
        r.forEach(c -> sb.append(' ').append(c.replace("|", "\\|")).append(" |"));
        sb.append('\n');
      }
      if (t.omitted > 0) {
        sb.append("\n").append(t.omitted).append(" more row(s) in the JSON report.\n");
      }
    }
    if (doc.has("fix")) {
      sb.append("\n## Fix\n\n").append(doc.path("fix").asText()).append('\n');
    }
    if (doc.has("trtexecFlags")) {
      sb.append("\n```\ntrtexec --onnx=MODEL ").append(doc.path("trtexecFlags").asText()).append("\n```\n");
    }
    return sb.toString();
  }

  /** A self-contained HTML page (no scripts, no external resources). */
  public String toHtml() {
    StringBuilder sb = new StringBuilder();
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>halfbisect ")
        .append(esc(command())).append(": ").append(esc(doc.path("model").asText())).append("</title>\n<style>")
        .append("body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}")
        .append("td,th{border:1px solid #ccc;padding:2px 8px;font-size:90%;text-align:left}")
        .append(".fail{background:#fde2e2}.pass{background:#e3f6e3}.verdict-fail{color:#b00}.verdict-pass{color:#070}")
        .append("code{background:#f4f4f4;padding:0 3px}</style></head><body>\n");
    sb.append("<h1>halfbisect ").append(esc(command())).append(": <code>").append(esc(doc.path("model").asText()))
        .append("</code></h1>\n<p class=\"verdict-").append(passed() ? "pass" : "fail").append("\"><b>")
        .append(esc(headline())).append("</b></p>\n<ul><li>reference <code>")
        .append(esc(doc.path("backend").path("reference").asText())).append("</code>, candidate <code>")
        .append(esc(doc.path("backend").path("candidate").asText())).append("</code>, candidate builds ")
        .append(doc.path("builds").asInt()).append("</li>\n");
    for (JsonNode n : doc.path("notes")) {
      sb.append("<li>").append(esc(n.asText())).append("</li>\n");
    }
    sb.append("</ul>\n");
    JsonNode ff = doc.path("firstFailing");
    if (ff.isObject()) {
      sb.append("<h2>First failing tensor</h2>\n<p><code>").append(esc(ff.path("tensor").asText()))
          .append("</code> produced by <code>").append(esc(ff.path("node").asText())).append("</code> (")
          .append(esc(ff.path("opType").asText())).append(")");
      if (ff.has("rootCause")) {
        sb.append(": ").append(esc(ff.path("rootCause").asText()));
      }
      sb.append("</p>\n");
    }
    for (Table t : tables()) {
      sb.append("<h2>").append(esc(t.title)).append("</h2>\n<table><tr>");
      t.header.forEach(h -> sb.append("<th>").append(esc(h)).append("</th>"));
      sb.append("</tr>\n");
      for (List<String> r : t.rows) {
        String cls = r.contains("fail") ? " class=\"fail\"" : "";
        sb.append("<tr").append(cls).append('>');
        r.forEach(c -> sb.append("<td>").append(esc(c)).append("</td>"));
        sb.append("</tr>\n");
      }
      sb.append("</table>\n");
      if (t.omitted > 0) {
        sb.append("<p>").append(t.omitted).append(" more row(s) in the JSON report.</p>\n");
      }
    }
    if (doc.has("fix")) {
      sb.append("<h2>Fix</h2>\n<p>").append(esc(doc.path("fix").asText())).append("</p>\n");
    }
    if (doc.has("trtexecFlags")) {
      sb.append("<pre>trtexec --onnx=MODEL ").append(esc(doc.path("trtexecFlags").asText())).append("</pre>\n");
    }
    sb.append("<details><summary>JSON</summary><pre>").append(esc(toJson())).append("</pre></details>\n</body></html>\n");
    return sb.toString();
  }

  private String headline() {
    String v = passed() ? "PASS" : "FAIL";
    return v + " - " + doc.path("summary").asText(command());
  }

  private record Table(String title, List<String> header, List<List<String>> rows, int omitted) {}

  private List<Table> tables() {
    List<Table> r = new ArrayList<>();
    addTable(r, "outputs", "Graph outputs", List.of("tensor", "normalizedError", "maxAbs", "verdict"), false);
    addTable(r, "tensors", "Tensors (topological order)",
        List.of("tensor", "opType", "node", "normalizedError", "maxAbs", "verdict"), true);
    addTable(r, "nodes", "Per-node error: local (born here) vs inherited",
        List.of("node", "opType", "localError", "inputError", "outputError", "amplification"), false);
    addTable(r, "byOpType", "By op type", List.of("opType", "count", "maxLocalError", "maxAmplification"), false);
    addTable(r, "reducedNodes", "Reduced model nodes", List.of("node", "opType"), false);
    JsonNode fp32 = doc.path("fp32Nodes");
    if (fp32.isArray()) {
      List<List<String>> rows = new ArrayList<>();
      for (JsonNode n : fp32) {
        if (rows.size() < TABLE_ROWS) {
          rows.add(List.of(n.asText()));
        }
      }
      r.add(new Table("Nodes kept in FP32 (" + fp32.size() + ", FP16 fraction "
          + num(doc.path("fp16Fraction")) + ")", List.of("node"), rows, fp32.size() - rows.size()));
    }
    return r;
  }

  /** Adds a table of an array field; for long tensor lists keeps the rows around the first failure. */
  private void addTable(List<Table> out, String field, String title, List<String> cols, boolean focusFailure) {
    JsonNode arr = doc.path(field);
    if (!arr.isArray() || arr.isEmpty()) {
      return;
    }
    int start = 0;
    if (focusFailure && arr.size() > TABLE_ROWS) {
      for (int i = 0; i < arr.size(); i++) {
        if ("fail".equals(arr.get(i).path("verdict").asText())) {
          start = Math.max(0, i - 5);
          break;
        }
      }
    }
    List<List<String>> rows = new ArrayList<>();
    for (int i = start; i < arr.size() && rows.size() < TABLE_ROWS; i++) {
      List<String> row = new ArrayList<>();
      for (String c : cols) {
        row.add(num(arr.get(i).path(c)));
      }
      rows.add(row);
    }
    out.add(new Table(title, cols, rows, arr.size() - rows.size()));
  }

  private static String num(JsonNode n) {
    if (n.isMissingNode() || n.isNull()) {
      return "-";
    }
    if (n.isNumber() && !n.isIntegralNumber()) {
      return String.format(Locale.ROOT, "%.3g", n.asDouble());
    }
    return n.asText();
  }

  private static String esc(String s) {
    return HtmlEscapers.htmlEscaper().escape(s);
  }

  static ObjectNode newDocument() {
    return JSON.createObjectNode();
  }

  @Override
  public String toString() {
    return headline();
  }
}
