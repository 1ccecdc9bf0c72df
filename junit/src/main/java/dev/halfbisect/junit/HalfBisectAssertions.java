package dev.halfbisect.junit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.halfbisect.api.AnalysisResult;
import dev.halfbisect.api.CompareResult;
import dev.halfbisect.api.DiagnosisResult;
import dev.halfbisect.api.HalfBisect;
import dev.halfbisect.api.TensorResult;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.core.verdict.Tolerance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.opentest4j.AssertionFailedError;

/**
 * JUnit 5 assertions for FP16 accuracy. Each assertion runs one analysis: a compare (graph outputs
 * only), explained, only when it fails, on the same analysis (layerwise and amplify, no build
 * repeated). On failure the message names the operation that failed (compare, layerwise), the first
 * failing node with its tensor and error, the root cause, the fix to try, and the path of an HTML
 * report written for the failure: into the folder given, else the folder named by the system
 * property {@code halfbisect.reportDir}, else {@code target/halfbisect-reports} when the working
 * directory has a {@code target} folder (Maven), else a new temporary folder.
 *
 * <pre>{@code
 * HalfBisect hb = HalfBisect.model(Path.of("model.onnx")).input("x:1x3x224x224:float32:-1..1");
 * HalfBisectAssertions.assertPassesInFp16(hb, Tolerance.fp16Default());
 * }</pre>
 */
public final class HalfBisectAssertions {
  /** System property naming the folder for failure reports. */
  public static final String REPORT_DIR_PROPERTY = "halfbisect.reportDir";

  private static final AtomicInteger COUNTER = new AtomicInteger();

  private HalfBisectAssertions() {}

  /** The graph outputs of the candidate pass against the reference under {@code tolerance}. */
  public static void assertPassesInFp16(HalfBisect hb, Tolerance tolerance) {
    assertPassesInFp16(hb, tolerance, null);
  }

  /**
   * As {@link #assertPassesInFp16(HalfBisect, Tolerance)}, writing a failure report into {@code
   * reportDir}.
   */
  public static void assertPassesInFp16(HalfBisect hb, Tolerance tolerance, Path reportDir) {
    HalfBisect configured = hb.tolerance(tolerance);
    CompareResult r = configured.compareAndExplain();
    if (!r.passed()) {
      fail(
          "assertPassesInFp16: expected the FP16 candidate to pass (" + tolerance + ")",
          r,
          r.explanation().orElseThrow(),
          configured,
          reportDir);
    }
  }

  /**
   * No tensor fails before the node {@code nodeName} in topological order: the first divergence, if
   * any, is at that node or later. Runs {@link HalfBisect#explain()} once (layerwise with amplify,
   * so a failure is explained without a second analysis).
   *
   * @throws IllegalArgumentException when the model has no such node
   */
  public static void assertFirstDivergenceNotBefore(HalfBisect hb, String nodeName) {
    assertFirstDivergenceNotBefore(hb, nodeName, null);
  }

  /** As {@link #assertFirstDivergenceNotBefore(HalfBisect, String)} with a report folder. */
  public static void assertFirstDivergenceNotBefore(
      HalfBisect hb, String nodeName, Path reportDir) {
    List<String> order = hb.nodeNames();
    int limit = order.indexOf(nodeName);
    if (limit < 0) {
      throw new IllegalArgumentException(
          "model " + hb.modelName() + " has no node named '" + nodeName + "'");
    }
    DiagnosisResult r = hb.explain();
    TensorResult first = r.firstFailing().orElse(null);
    if (first != null && order.indexOf(first.node()) < limit) {
      fail(
          "assertFirstDivergenceNotBefore: expected the first divergence at or after node '"
              + nodeName
              + "' but tensor "
              + first.tensor()
              + " of node '"
              + first.node()
              + "' fails before it",
          r,
          r,
          hb,
          reportDir);
    }
  }

  /**
   * The candidate under {@code plan} passes on the graph outputs (at the tolerance of {@code hb}).
   */
  public static void assertPlanPasses(HalfBisect hb, PrecisionPlan plan) {
    assertPlanPasses(hb, plan, null);
  }

  /** As {@link #assertPlanPasses(HalfBisect, PrecisionPlan)} with a report folder. */
  public static void assertPlanPasses(HalfBisect hb, PrecisionPlan plan, Path reportDir) {
    HalfBisect configured = hb.plan(plan);
    CompareResult r = configured.compareAndExplain();
    if (!r.passed()) {
      fail(
          "assertPlanPasses: expected the candidate under the plan ("
              + plan.fp32Nodes().size()
              + " node(s) in FP32) to pass",
          r,
          r.explanation().orElseThrow(),
          configured,
          reportDir);
    }
  }

  /**
   * Writes the explanation's report and throws with the message.
   *
   * @param failed the result of the operation that failed (its command names it)
   * @param why where and why: the first failing tensor and the root causes
   */
  private static void fail(
      String expectation,
      AnalysisResult failed,
      DiagnosisResult why,
      HalfBisect hb,
      Path reportDir) {
    // the report is a help: a folder that cannot be written must not hide the FP16 failure
    Path html = null;
    RuntimeException notWritten = null;
    try {
      html = reportFile(reportDir, hb.modelName());
      why.writeReport(html);
    } catch (RuntimeException e) {
      notWritten = e;
    }
    String msg = message(expectation, failed, why, notWritten == null ? html : null);
    if (notWritten != null) {
      msg += "not written (" + notWritten.getMessage() + ")";
    }
    AssertionFailedError error = new AssertionFailedError(msg);
    if (notWritten != null) {
      error.addSuppressed(notWritten);
    }
    throw error;
  }

  static String message(String expectation, AnalysisResult failed, AnalysisResult why, Path html) {
    JsonNode op = json(failed);
    JsonNode j = json(why);
    StringBuilder sb = new StringBuilder(expectation).append('\n');
    sb.append(op.path("command").asText())
        .append(": ")
        .append(op.path("verdict").asText().toUpperCase(Locale.ROOT))
        .append(" (reference ")
        .append(op.path("backend").path("reference").asText())
        .append(", candidate ")
        .append(op.path("backend").path("candidate").asText())
        .append(")\n");
    JsonNode ff = j.path("firstFailing");
    JsonNode cause = null;
    if (ff.isObject()) {
      String node = ff.path("node").asText();
      sb.append("first failing node: '")
          .append(node)
          .append("' (")
          .append(ff.path("opType").asText())
          .append("), tensor ")
          .append(ff.path("tensor").asText())
          .append(", normalized error ")
          .append(number(ff.path("error")))
          .append('\n');
      for (JsonNode c : j.path("rootCauses")) {
        if (cause == null || c.path("node").asText().equals(node)) {
          cause = c;
          if (c.path("node").asText().equals(node)) {
            break;
          }
        }
      }
    } else {
      sb.append("first failing node: none (every observed tensor passes; the outputs do not)\n");
    }
    sb.append("root cause: ")
        .append(
            cause == null
                ? "not determined"
                : cause.path("cause").asText()
                    + " in '"
                    + cause.path("node").asText()
                    + "': "
                    + cause.path("evidence").asText())
        .append('\n');
    String fix =
        cause != null && cause.path("suggestions").size() > 0
            ? cause.path("suggestions").get(0).asText()
            : "find a plan with HalfBisect.precision() (CLI: halfbisect precision MODEL --out DIR)"
                + " and check it with assertPlanPasses";
    sb.append("fix to try: ").append(fix).append('\n');
    sb.append("report: ");
    if (html != null) {
      sb.append(html.toAbsolutePath());
    }
    return sb.toString();
  }

  private static JsonNode json(AnalysisResult r) {
    try {
      return new ObjectMapper().readTree(r.toJson());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String number(JsonNode n) {
    return n.isNumber() ? String.format(Locale.ROOT, "%.3g", n.asDouble()) : n.asText();
  }

  private static Path reportFile(Path reportDir, String model) {
    Path dir = reportDir;
    if (dir == null && System.getProperty(REPORT_DIR_PROPERTY) != null) {
      dir = Path.of(System.getProperty(REPORT_DIR_PROPERTY));
    }
    try {
      if (dir == null) {
        dir =
            Files.isDirectory(Path.of("target"))
                ? Path.of("target", "halfbisect-reports")
                : Files.createTempDirectory("halfbisect-reports");
      }
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the report folder: " + e.getMessage(), e);
    }
    String safe = model.replaceAll("[^A-Za-z0-9._-]", "_");
    return dir.resolve(
        safe + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet() + ".html");
  }
}
