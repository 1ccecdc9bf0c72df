package dev.halfbisect.report.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.halfbisect.core.io.SafeFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JSON I/O of {@link AnalysisReport}: a fixed pretty layout ({@code "key": value}, two-space
 * indent, arrays one element per line, {@code \n} line ends) so that equal reports are
 * byte-identical on every platform. Non-finite numbers are written as the strings {@code "NaN"},
 * {@code "Infinity"} and {@code "-Infinity"} and read back as numbers.
 */
public final class ReportJson {
  /** Opening tag of the JSON document embedded in HTML reports. */
  public static final String HTML_SCRIPT_OPEN =
      "<script type=\"application/json\" id=\"halfbisect-report\">";

  private static final String HTML_SCRIPT_CLOSE = "</script>";

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(
              new com.fasterxml.jackson.databind.module.SimpleModule("halfbisect-numbers")
                  .addDeserializer(Double.class, new LenientDouble())
                  .addDeserializer(Double.TYPE, new LenientDouble()))
          .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
          .configure(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES, false);
  private static final ObjectWriter WRITER = MAPPER.writer(prettyPrinter());

  /**
   * Same layout with {@code < > &} escaped as {@code \\u003C}-style escapes, safe inside HTML/XML.
   */
  private static final ObjectWriter HTML_SAFE_WRITER;

  static {
    ObjectMapper htmlSafe = MAPPER.copy();
    htmlSafe.getFactory().setCharacterEscapes(new HtmlSafeEscapes());
    HTML_SAFE_WRITER = htmlSafe.writer(prettyPrinter());
  }

  private ReportJson() {}

  private static DefaultPrettyPrinter prettyPrinter() {
    DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
    DefaultPrettyPrinter p =
        new DefaultPrettyPrinter()
            .withSeparators(
                Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
    p.indentObjectsWith(indenter);
    p.indentArraysWith(indenter);
    return p;
  }

  static String write(AnalysisReport r) {
    try {
      return WRITER.writeValueAsString(r) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot serialize report of command " + r.command(), e);
    }
  }

  /** Issue 20: any report value (perf table) in the same stable layout, with a trailing newline. */
  public static String writeValue(Object value) {
    try {
      return WRITER.writeValueAsString(value) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot serialize " + value.getClass().getSimpleName(), e);
    }
  }

  /** The document for embedding in HTML: {@code < > &} written as unicode escapes. */
  public static String writeHtmlSafe(AnalysisReport r) {
    try {
      return HTML_SAFE_WRITER.writeValueAsString(r);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot serialize report of command " + r.command(), e);
    }
  }

  static void write(AnalysisReport r, Path file) throws IOException {
    SafeFiles.writeString(file, write(r));
  }

  static AnalysisReport read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    String json = text;
    int open = text.indexOf(HTML_SCRIPT_OPEN);
    if (open >= 0) {
      int start = open + HTML_SCRIPT_OPEN.length();
      int end = text.indexOf(HTML_SCRIPT_CLOSE, start);
      if (end < 0) {
        throw new IllegalArgumentException(
            file + ": embedded halfbisect report JSON is not closed");
      }
      json = text.substring(start, end);
    } else if (text.stripLeading().startsWith("<")) {
      throw new IllegalArgumentException(
          file
              + ": HTML file without an embedded halfbisect report "
              + "(expected "
              + HTML_SCRIPT_OPEN
              + ")");
    }
    return read(json, file.toString());
  }

  static AnalysisReport read(String json, String source) {
    JsonNode tree;
    try {
      tree = MAPPER.readTree(json);
    } catch (IOException e) {
      String msg =
          e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
      throw new IllegalArgumentException(source + ": not valid JSON: " + msg, e);
    }
    if (tree == null || !tree.isObject()) {
      throw new IllegalArgumentException(source + ": a halfbisect report must be a JSON object");
    }
    String schema = tree.path("schema").asText(null);
    if (!AnalysisReport.SCHEMA.equals(schema)) {
      throw new IllegalArgumentException(
          source
              + ": unsupported report schema '"
              + schema
              + "', expected "
              + AnalysisReport.SCHEMA);
    }
    try {
      return MAPPER.treeToValue(tree, AnalysisReport.class);
    } catch (IOException | IllegalArgumentException e) {
      String msg =
          e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
      String where =
          e instanceof com.fasterxml.jackson.databind.JsonMappingException jme ? path(jme) : "";
      throw new IllegalArgumentException(
          source
              + ": invalid halfbisect report"
              + (where.isEmpty() ? "" : " at " + where)
              + ": "
              + msg,
          e);
    }
  }

  /** The JSON path of a mapping error, e.g. {@code tensors[3].maxAbs}. */
  private static String path(com.fasterxml.jackson.databind.JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  /**
   * Numbers, also from the strings "inf", "-inf", "nan" (any case) and Jackson's "Infinity"/"NaN".
   */
  private static final class LenientDouble
      extends com.fasterxml.jackson.databind.JsonDeserializer<Double> {
    @Override
    public Double deserialize(
        com.fasterxml.jackson.core.JsonParser p,
        com.fasterxml.jackson.databind.DeserializationContext ctx)
        throws IOException {
      if (p.currentToken() == com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
        String t = p.getText().trim();
        switch (t.toLowerCase(java.util.Locale.ROOT)) {
          case "inf", "+inf", "infinity", "+infinity" -> {
            return Double.POSITIVE_INFINITY;
          }
          case "-inf", "-infinity" -> {
            return Double.NEGATIVE_INFINITY;
          }
          case "nan" -> {
            return Double.NaN;
          }
          default -> {
            try {
              return Double.parseDouble(t);
            } catch (NumberFormatException e) {
              return (Double) ctx.handleWeirdStringValue(Double.class, t, "not a number");
            }
          }
        }
      }
      if (p.currentToken() != null && p.currentToken().isNumeric()) {
        return p.getDoubleValue();
      }
      return (Double) ctx.handleUnexpectedToken(Double.class, p);
    }
  }

  /** Escapes the characters that could end an HTML script element or an XML text node. */
  private static final class HtmlSafeEscapes extends CharacterEscapes {
    private static final long serialVersionUID = 1L;
    private final int[] escapes;

    HtmlSafeEscapes() {
      escapes = standardAsciiEscapesForJSON();
      escapes['<'] = ESCAPE_STANDARD;
      escapes['>'] = ESCAPE_STANDARD;
      escapes['&'] = ESCAPE_STANDARD;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return escapes;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      return null;
    }
  }
}
