package dev.halfbisect.report.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSortedMap;
import com.google.common.collect.Ordering;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.annotation.CheckForNull;

/**
 * One analysis document, exactly the {@code halfbisect/1} JSON contract (DESIGN.md). Renderers read
 * only this, so a report can be re-rendered from its JSON without the engine. Optional sections are
 * null when the command did not produce them and are then left out of the JSON. Maps and {@code
 * fp32Nodes} are sorted; lists in topological or ranked order keep it. Timings live in their own
 * {@code timings} object so determinism checks can drop it.
 *
 * @param schema always {@link #SCHEMA}
 * @param command subcommand that produced it (compare, layerwise, bisect, amplify, precision,
 *     reduce, diagnose)
 * @param model model path or display name
 * @param backend reference and candidate backends
 * @param verdict {@code "pass"} or {@code "fail"}
 * @param builds candidate builds made
 * @param tolerance the tolerance used
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "schema",
  "command",
  "model",
  "backend",
  "verdict",
  "builds",
  "tolerance",
  "tensors",
  "firstFailing",
  "nodes",
  "byOpType",
  "byMotif",
  "fp32Nodes",
  "fp16Fraction",
  "plan",
  "trtexecFlags",
  "reduce",
  "rootCauses",
  "warnings",
  "timings"
})
public record AnalysisReport(
    String schema,
    String command,
    String model,
    BackendPair backend,
    String verdict,
    int builds,
    ToleranceView tolerance,
    @CheckForNull List<TensorRow> tensors,
    @CheckForNull FirstFailing firstFailing,
    @CheckForNull List<NodeRow> nodes,
    @CheckForNull Map<String, GroupStat> byOpType,
    @CheckForNull Map<String, GroupStat> byMotif,
    @CheckForNull List<String> fp32Nodes,
    @CheckForNull Double fp16Fraction,
    @CheckForNull PlanView plan,
    @CheckForNull String trtexecFlags,
    @CheckForNull ReduceSection reduce,
    @CheckForNull List<RootCause> rootCauses,
    @CheckForNull List<String> warnings,
    @CheckForNull Map<String, Double> timings) {

  /** Schema identifier written at the top of every document. */
  public static final String SCHEMA = "halfbisect/1";

  public AnalysisReport {
    Preconditions.checkArgument(
        SCHEMA.equals(schema), "unsupported report schema '%s', expected %s", schema, SCHEMA);
    Preconditions.checkNotNull(command, "report field command");
    Preconditions.checkNotNull(model, "report field model");
    Preconditions.checkNotNull(backend, "report field backend");
    Verdicts.check(verdict, "report field verdict");
    Preconditions.checkArgument(builds >= 0, "report field builds must be >= 0, got %s", builds);
    Preconditions.checkNotNull(tolerance, "report field tolerance");
    tensors = copy(tensors);
    nodes = copy(nodes);
    byOpType = byOpType == null ? null : ImmutableSortedMap.copyOf(byOpType);
    byMotif = byMotif == null ? null : ImmutableSortedMap.copyOf(byMotif);
    fp32Nodes =
        fp32Nodes == null ? null : ImmutableList.sortedCopyOf(Ordering.natural(), fp32Nodes);
    rootCauses = copy(rootCauses);
    warnings = copy(warnings);
    timings = timings == null ? null : ImmutableSortedMap.copyOf(timings);
  }

  private static <T> List<T> copy(@CheckForNull List<T> l) {
    return l == null ? null : ImmutableList.copyOf(l);
  }

  /** A builder with the mandatory header; sections are added with the {@code with*} methods. */
  public static AnalysisReport header(
      String command,
      String model,
      BackendPair backend,
      boolean pass,
      int builds,
      ToleranceView tolerance) {
    return new AnalysisReport(
        SCHEMA,
        command,
        model,
        backend,
        Verdicts.of(pass),
        builds,
        tolerance,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  public boolean passed() {
    return Verdicts.PASS.equals(verdict);
  }

  public List<TensorRow> tensorsOrEmpty() {
    return tensors == null ? List.of() : tensors;
  }

  public List<NodeRow> nodesOrEmpty() {
    return nodes == null ? List.of() : nodes;
  }

  public Optional<FirstFailing> firstFailingOpt() {
    return Optional.ofNullable(firstFailing);
  }

  /** The same report with {@code builds} candidate builds (e.g. counting a preflight build). */
  public AnalysisReport withBuilds(int b) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        b,
        tolerance,
        tensors,
        firstFailing,
        nodes,
        byOpType,
        byMotif,
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        reduce,
        rootCauses,
        warnings,
        timings);
  }

  public AnalysisReport withTensors(List<TensorRow> t) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        t,
        firstFailing,
        nodes,
        byOpType,
        byMotif,
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        reduce,
        rootCauses,
        warnings,
        timings);
  }

  public AnalysisReport withFirstFailing(@CheckForNull FirstFailing f) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        tensors,
        f,
        nodes,
        byOpType,
        byMotif,
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        reduce,
        rootCauses,
        warnings,
        timings);
  }

  /**
   * Amplification rows; also fills {@code byOpType} and (when rows carry motifs) {@code byMotif}.
   */
  public AnalysisReport withNodes(List<NodeRow> n) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        tensors,
        firstFailing,
        n,
        Aggregates.byOpType(n),
        Aggregates.byMotif(n),
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        reduce,
        rootCauses,
        warnings,
        timings);
  }

  public AnalysisReport withPrecision(
      List<String> fp32, double fraction, @CheckForNull PlanView p, @CheckForNull String flags) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        tensors,
        firstFailing,
        nodes,
        byOpType,
        byMotif,
        fp32,
        fraction,
        p,
        flags,
        reduce,
        rootCauses,
        warnings,
        timings);
  }

  public AnalysisReport withReduce(@CheckForNull ReduceSection r) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        tensors,
        firstFailing,
        nodes,
        byOpType,
        byMotif,
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        r,
        rootCauses,
        warnings,
        timings);
  }

  public AnalysisReport withRootCauses(@CheckForNull List<RootCause> rc) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        tensors,
        firstFailing,
        nodes,
        byOpType,
        byMotif,
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        reduce,
        rc,
        warnings,
        timings);
  }

  public AnalysisReport withWarnings(@CheckForNull List<String> w) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        tensors,
        firstFailing,
        nodes,
        byOpType,
        byMotif,
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        reduce,
        rootCauses,
        w,
        timings);
  }

  public AnalysisReport withTimings(@CheckForNull Map<String, Double> t) {
    return new AnalysisReport(
        schema,
        command,
        model,
        backend,
        verdict,
        builds,
        tolerance,
        tensors,
        firstFailing,
        nodes,
        byOpType,
        byMotif,
        fp32Nodes,
        fp16Fraction,
        plan,
        trtexecFlags,
        reduce,
        rootCauses,
        warnings,
        t);
  }

  /**
   * Stable pretty JSON (two-space indent, trailing newline); identical reports give identical
   * bytes.
   */
  public String toJson() {
    return ReportJson.write(this);
  }

  /** Writes {@link #toJson()} to a file. */
  public void write(Path file) throws IOException {
    ReportJson.write(this, file);
  }

  /** Parses a {@code halfbisect/1} document. */
  public static AnalysisReport fromJson(String json) {
    return ReportJson.read(json, "<string>");
  }

  /**
   * Reads a {@code halfbisect/1} document from a {@code .json} file, or the document embedded in an
   * HTML report written by {@code HtmlRenderer}.
   */
  public static AnalysisReport read(Path file) throws IOException {
    return ReportJson.read(file);
  }
}
