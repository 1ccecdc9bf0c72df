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
 * {@code timings} object so determinism checks can drop it; so does {@code execution} (how the
 * probes ran: a reference read from the reference cache makes 0 reference builds).
 *
 * @param schema always {@link #SCHEMA}
 * @param command subcommand that produced it (compare, layerwise, bisect, amplify, precision,
 *     reduce, diagnose)
 * @param model model path or display name
 * @param backend reference and candidate backends
 * @param verdict {@code "pass"} or {@code "fail"}
 * @param builds candidate builds made
 * @param tolerance the tolerance used
 * @param samples issue 15: per-sample pass rates of the outputs and the worst sample
 * @param headroom issue 15: tensors whose reference magnitude nears FP16's 65504
 * @param search issue 15: how a precision search stopped, and its plan on held-out samples
 * @param execution how the probes ran: parallelism, rounds, reference builds, emulation builds
 * @param price latency of FP32, FP16 and the plan (precision, diagnose; issue 20)
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
  "price",
  "reduce",
  "rootCauses",
  "warnings",
  "timings",
  "samples",
  "headroom",
  "search",
  "execution"
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
    @CheckForNull PriceSection price, // issue 20: what the plan costs
    @CheckForNull ReduceSection reduce,
    @CheckForNull List<RootCause> rootCauses,
    @CheckForNull List<String> warnings,
    @CheckForNull Map<String, Double> timings,
    // issue 15: sample pass rates, headroom, search stop and holdout
    @CheckForNull SampleSummary samples,
    @CheckForNull HeadroomView headroom,
    @CheckForNull SearchView search,
    // issue 18: parallel probes, reference cache, emulation first
    @CheckForNull ExecutionView execution) {

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

  /** An empty builder: command, model, backend, verdict, builds and tolerance are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this report's fields, to change some of them. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** A report with the mandatory header and no optional section. */
  public static AnalysisReport header(
      String command,
      String model,
      BackendPair backend,
      boolean pass,
      int builds,
      ToleranceView tolerance) {
    return builder()
        .command(command)
        .model(model)
        .backend(backend)
        .pass(pass)
        .builds(builds)
        .tolerance(tolerance)
        .build();
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

  /** The same report with its execution block (issue 18). */
  public AnalysisReport withExecution(@CheckForNull ExecutionView e) {
    return toBuilder().execution(e).build();
  }

  /** The same report with {@code builds} candidate builds (e.g. counting a preflight build). */
  public AnalysisReport withBuilds(int b) {
    return toBuilder().builds(b).build();
  }

  public AnalysisReport withTensors(List<TensorRow> t) {
    return toBuilder().tensors(t).build();
  }

  public AnalysisReport withFirstFailing(@CheckForNull FirstFailing f) {
    return toBuilder().firstFailing(f).build();
  }

  /**
   * Amplification rows; also fills {@code byOpType} and (when rows carry motifs) {@code byMotif}.
   */
  public AnalysisReport withNodes(List<NodeRow> n) {
    return toBuilder().nodes(n).build();
  }

  public AnalysisReport withPrecision(
      List<String> fp32, double fraction, @CheckForNull PlanView p, @CheckForNull String flags) {
    return toBuilder().precision(fp32, fraction, p, flags).build();
  }

  public AnalysisReport withReduce(@CheckForNull ReduceSection r) {
    return toBuilder().reduce(r).build();
  }

  public AnalysisReport withRootCauses(@CheckForNull List<RootCause> rc) {
    return toBuilder().rootCauses(rc).build();
  }

  public AnalysisReport withWarnings(@CheckForNull List<String> w) {
    return toBuilder().warnings(w).build();
  }

  /** Issue 20: this report with the plan's price. */
  public AnalysisReport withPrice(@CheckForNull PriceSection p) {
    return toBuilder().price(p).build();
  }

  public AnalysisReport withTimings(@CheckForNull Map<String, Double> t) {
    return toBuilder().timings(t).build();
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

  /**
   * Assembles a report field by field; {@link #build()} checks the header and copies the sections
   * as the record does. Optional sections left unset stay null (absent from the JSON).
   */
  public static final class Builder {
    private String command;
    private String model;
    private BackendPair backend;
    private String verdict;
    private int builds;
    private ToleranceView tolerance;
    @CheckForNull private List<TensorRow> tensors;
    @CheckForNull private FirstFailing firstFailing;
    @CheckForNull private List<NodeRow> nodes;
    @CheckForNull private Map<String, GroupStat> byOpType;
    @CheckForNull private Map<String, GroupStat> byMotif;
    @CheckForNull private List<String> fp32Nodes;
    @CheckForNull private Double fp16Fraction;
    @CheckForNull private PlanView plan;
    @CheckForNull private String trtexecFlags;
    @CheckForNull private PriceSection price;
    @CheckForNull private ReduceSection reduce;
    @CheckForNull private List<RootCause> rootCauses;
    @CheckForNull private List<String> warnings;
    @CheckForNull private Map<String, Double> timings;
    // issue 15
    @CheckForNull private SampleSummary samples;
    @CheckForNull private HeadroomView headroom;
    @CheckForNull private SearchView search;
    @CheckForNull private ExecutionView execution;

    private Builder() {}

    private Builder(AnalysisReport r) {
      command = r.command;
      model = r.model;
      backend = r.backend;
      verdict = r.verdict;
      builds = r.builds;
      tolerance = r.tolerance;
      tensors = r.tensors;
      firstFailing = r.firstFailing;
      nodes = r.nodes;
      byOpType = r.byOpType;
      byMotif = r.byMotif;
      fp32Nodes = r.fp32Nodes;
      fp16Fraction = r.fp16Fraction;
      plan = r.plan;
      trtexecFlags = r.trtexecFlags;
      price = r.price;
      reduce = r.reduce;
      rootCauses = r.rootCauses;
      warnings = r.warnings;
      timings = r.timings;
      samples = r.samples;
      headroom = r.headroom;
      search = r.search;
      execution = r.execution;
    }

    // issue 15: sample pass rates, headroom, search stop and holdout
    public Builder samples(@CheckForNull SampleSummary v) {
      samples = v;
      return this;
    }

    public Builder headroom(@CheckForNull HeadroomView v) {
      headroom = v;
      return this;
    }

    public Builder search(@CheckForNull SearchView v) {
      search = v;
      return this;
    }

    public Builder command(String v) {
      command = v;
      return this;
    }

    public Builder model(String v) {
      model = v;
      return this;
    }

    public Builder backend(BackendPair v) {
      backend = v;
      return this;
    }

    /** {@code "pass"} or {@code "fail"}. */
    public Builder verdict(String v) {
      verdict = v;
      return this;
    }

    /** The verdict word of {@code pass}. */
    public Builder pass(boolean pass) {
      verdict = Verdicts.of(pass);
      return this;
    }

    public Builder builds(int v) {
      builds = v;
      return this;
    }

    public Builder tolerance(ToleranceView v) {
      tolerance = v;
      return this;
    }

    public Builder tensors(@CheckForNull List<TensorRow> v) {
      tensors = v;
      return this;
    }

    public Builder firstFailing(@CheckForNull FirstFailing v) {
      firstFailing = v;
      return this;
    }

    /**
     * Amplification rows; also sets {@code byOpType} and {@code byMotif} to their aggregates (set
     * those afterwards to replace them).
     */
    public Builder nodes(@CheckForNull List<NodeRow> v) {
      nodes = v;
      byOpType = Aggregates.byOpType(v);
      byMotif = Aggregates.byMotif(v);
      return this;
    }

    public Builder byOpType(@CheckForNull Map<String, GroupStat> v) {
      byOpType = v;
      return this;
    }

    public Builder byMotif(@CheckForNull Map<String, GroupStat> v) {
      byMotif = v;
      return this;
    }

    public Builder fp32Nodes(@CheckForNull List<String> v) {
      fp32Nodes = v;
      return this;
    }

    public Builder fp16Fraction(@CheckForNull Double v) {
      fp16Fraction = v;
      return this;
    }

    public Builder plan(@CheckForNull PlanView v) {
      plan = v;
      return this;
    }

    public Builder trtexecFlags(@CheckForNull String v) {
      trtexecFlags = v;
      return this;
    }

    /** Issue 20: the plan's price. */
    public Builder price(@CheckForNull PriceSection v) {
      price = v;
      return this;
    }

    public Builder reduce(@CheckForNull ReduceSection v) {
      reduce = v;
      return this;
    }

    public Builder rootCauses(@CheckForNull List<RootCause> v) {
      rootCauses = v;
      return this;
    }

    public Builder warnings(@CheckForNull List<String> v) {
      warnings = v;
      return this;
    }

    public Builder execution(@CheckForNull ExecutionView v) {
      execution = v;
      return this;
    }

    public Builder timings(@CheckForNull Map<String, Double> v) {
      timings = v;
      return this;
    }

    /** The precision section: FP32 set, FP16 fraction, plan and trtexec flags. */
    public Builder precision(
        @CheckForNull List<String> fp32,
        @CheckForNull Double fraction,
        @CheckForNull PlanView p,
        @CheckForNull String flags) {
      fp32Nodes = fp32;
      fp16Fraction = fraction;
      plan = p;
      trtexecFlags = flags;
      return this;
    }

    public AnalysisReport build() {
      return new AnalysisReport(
          SCHEMA,
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
          price,
          reduce,
          rootCauses,
          warnings,
          timings,
          samples,
          headroom,
          search,
          execution);
    }
  }
}
