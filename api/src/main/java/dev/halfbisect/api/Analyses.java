package dev.halfbisect.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.halfbisect.core.Half;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.plan.PrecisionPlan;
import dev.halfbisect.onnx.proto.Onnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The analysing strategies over an {@link Engine}, each producing its result and JSON document. */
final class Analyses {
  private static final int MAX_PRECISION_ROUNDS = 64;
  private static final int MAX_PRUNE = 24;
  private static final int MAX_REDUCE_EXPANSIONS = 12;

  private final Engine e;
  private final Path outDir;

  Analyses(Engine engine, Path outDir) {
    this.e = engine;
    this.outDir = outDir;
  }

  // ---------------------------------------------------------------- compare

  CompareResult compare() {
    e.phase("compare", 2);
    List<Map<String, Tensor>> ref = e.runReference(List.of());
    List<Map<String, Tensor>> cand = e.runCandidate(e.plan, List.of());
    List<TensorError> outs = e.compare(ref, cand, floatOutputs(ref));
    boolean pass = outs.stream().allMatch(TensorError::passed);
    ObjectNode doc = base("compare", pass, outputsSummary(outs));
    putTensors(doc.putArray("outputs"), outs);
    return new CompareResult(finish(doc), outs);
  }

  private List<String> floatOutputs(List<Map<String, Tensor>> ref) {
    List<String> r = new ArrayList<>();
    for (String o : e.graph.outputs()) {
      Tensor t = ref.get(0).get(o);
      if (t != null && t.dtype().isFloatingPoint()) {
        r.add(o);
      } else if (t != null) {
        e.notes.add("output '" + o + "' is " + t.dtype().cliName() + ", not compared");
      }
    }
    return r;
  }

  private static String outputsSummary(List<TensorError> outs) {
    double worst = outs.stream().mapToDouble(t -> t.stats().normalizedError()).max().orElse(0);
    long failing = outs.stream().filter(t -> !t.passed()).count();
    return failing == 0
        ? String.format(Locale.ROOT, "graph outputs pass (worst normalized error %s)", fmt(worst))
        : failing + " of " + outs.size() + " graph output(s) fail: " + outs.stream().filter(t -> !t.passed())
            .map(t -> t.tensor() + " " + t.failure()).collect(Collectors.joining("; "));
  }

  // ---------------------------------------------------------------- layerwise

  private record Layerwise(List<TensorError> tensors, List<TensorError> outputs, List<Map<String, Tensor>> ref) {
    boolean pass() {
      return outputs.stream().allMatch(TensorError::passed);
    }

    TensorError firstFailing() {
      return tensors.stream().filter(t -> !t.passed()).findFirst().orElse(null);
    }
  }

  private Layerwise runLayerwise(PrecisionPlan p) {
    List<Map<String, Tensor>> ref = e.referenceAll();
    List<Map<String, Tensor>> cand = e.runCandidate(p, e.graph.intermediateTensors());
    List<TensorError> tensors = e.compare(ref, cand, e.floatTensors());
    Set<String> outs = new HashSet<>(floatOutputs(ref));
    List<TensorError> outputs = tensors.stream().filter(t -> outs.contains(t.tensor())).collect(Collectors.toList());
    return new Layerwise(tensors, outputs, ref);
  }

  LayerwiseResult layerwise() {
    e.phase("layerwise", 2);
    Layerwise lw = runLayerwise(e.plan);
    TensorError ff = lw.firstFailing();
    ObjectNode doc = base("layerwise", lw.pass(), outputsSummary(lw.outputs())
        + (ff == null ? "; every tensor passes" : "; first failing tensor " + ff.tensor()));
    putTensors(doc.putArray("outputs"), lw.outputs());
    putTensors(doc.putArray("tensors"), lw.tensors());
    putFirstFailing(doc, ff, rootCauseFromStats(ff));
    return new LayerwiseResult(finish(doc), lw.tensors());
  }

  // ---------------------------------------------------------------- bisect

  BisectResult bisect() {
    List<Map<String, Tensor>> ref = e.referenceAll();
    List<String> outs = floatOutputs(ref);
    e.phase("bisect", -1);
    List<Map<String, Tensor>> cand = e.runCandidate(e.plan, List.of());
    List<TensorError> outErrors = e.compare(ref, cand, outs);
    TensorError failingOut = outErrors.stream().filter(t -> !t.passed()).findFirst().orElse(null);
    TensorError found = null;
    int probes = 1;
    if (failingOut != null) {
      // Only tensors upstream of the failing output can be where it starts.
      Set<String> upstream = e.graph.ancestors(failingOut.tensor());
      List<String> order = e.floatTensors().stream()
          .filter(t -> e.graph.producer(t).map(n -> upstream.contains(n.getName())).orElse(false))
          .collect(Collectors.toList());
      int lo = 0;
      int hi = order.indexOf(failingOut.tensor());
      found = failingOut;
      // Invariant: order[hi] fails. Assumes error, once over tolerance, stays over downstream.
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        String t = order.get(mid);
        List<Map<String, Tensor>> c = e.runCandidate(e.plan, List.of(t));
        probes++;
        TensorError err = e.compareOne(ref, c, t);
        if (err.passed()) {
          lo = mid + 1;
        } else {
          hi = mid;
          found = err;
        }
      }
    }
    ObjectNode doc = base("bisect", failingOut == null, failingOut == null ? outputsSummary(outErrors)
        : "first failing tensor " + found.tensor() + " (" + found.opType() + " " + found.node() + "), found in "
            + probes + " candidate probe(s)");
    putTensors(doc.putArray("outputs"), outErrors);
    putFirstFailing(doc, found, rootCauseFromStats(found));
    doc.put("probes", probes);
    return new BisectResult(finish(doc), found);
  }

  // ---------------------------------------------------------------- amplify

  private record Amplification(List<NodeAmplification> nodes, Layerwise layerwise) {}

  private Amplification runAmplify(Layerwise lw) {
    Map<String, Double> accumulated = new HashMap<>();
    lw.tensors().forEach(t -> accumulated.put(t.tensor(), t.stats().normalizedError()));
    Set<String> f32 = new HashSet<>();
    for (String t : e.floatTensors()) {
      if (lw.ref().get(0).get(t).dtype() == dev.halfbisect.core.DType.FLOAT32) {
        f32.add(t);
      }
    }
    ShadowGraph.Result shadow = ShadowGraph.build(e.graph, f32, e.plan);
    List<String> observed = new ArrayList<>();
    shadow.shadows().values().forEach(m -> m.forEach((orig, s) -> {
      observed.add(orig);
      observed.add(s);
    }));
    List<Map<String, Tensor>> sh = e.probe(e.reference, e.graph.refOf(shadow.model(), "shadow"),
        PrecisionPlan.allFp32(), observed, e.samples, "reference shadow graph");
    List<NodeAmplification> nodes = new ArrayList<>();
    for (Onnx.NodeProto n : e.graph.nodes()) {
      Map<String, String> outs = shadow.shadows().get(n.getName());
      if (outs == null || outs.isEmpty()) {
        continue;
      }
      double local = 0;
      double outErr = 0;
      for (Map.Entry<String, String> o : outs.entrySet()) {
        for (Map<String, Tensor> s : sh) {
          float[] r = s.get(o.getKey()).toFloatArray();
          float[] c = s.get(o.getValue()).toFloatArray();
          local = Math.max(local, TensorError.Stats.of(r, c).normalizedError());
        }
        outErr = Math.max(outErr, accumulated.getOrDefault(o.getKey(), 0.0));
      }
      double inErr = 0;
      for (String in : n.getInputList()) {
        inErr = Math.max(inErr, accumulated.getOrDefault(in, 0.0));
      }
      double amp = inErr > 0 && Double.isFinite(inErr) ? outErr / inErr : Double.NaN;
      nodes.add(new NodeAmplification(n.getName(), n.getOpType(), local, inErr, outErr, amp));
    }
    return new Amplification(nodes, lw);
  }

  AmplifyResult amplify() {
    e.phase("amplify", 3);
    Layerwise lw = runLayerwise(e.plan);
    Amplification a = runAmplify(lw);
    ObjectNode doc = base("amplify", lw.pass(), amplifySummary(a));
    putTensors(doc.putArray("outputs"), lw.outputs());
    putAmplification(doc, a.nodes());
    TensorError ff = lw.firstFailing();
    putFirstFailing(doc, ff, rootCause(ff, a.nodes()));
    return new AmplifyResult(finish(doc), a.nodes());
  }

  private String amplifySummary(Amplification a) {
    NodeAmplification top = a.nodes().stream().filter(n -> Double.isFinite(n.amplification()))
        .max((x, y) -> Double.compare(x.amplification(), y.amplification())).orElse(null);
    NodeAmplification born = a.nodes().stream()
        .max((x, y) -> Double.compare(x.localError(), y.localError())).orElse(null);
    return outputsSummary(a.layerwise().outputs())
        + (born == null ? "" : "; largest local error " + fmt(born.localError()) + " in " + born.opType() + " "
            + born.node())
        + (top == null ? "" : "; largest amplification x" + fmt(top.amplification()) + " in " + top.opType() + " "
            + top.node());
  }

  private void putAmplification(ObjectNode doc, List<NodeAmplification> nodes) {
    ArrayNode arr = doc.putArray("nodes");
    Map<String, double[]> byOp = new TreeMap<>();
    for (NodeAmplification n : nodes) {
      ObjectNode o = arr.addObject();
      o.put("node", n.node());
      o.put("opType", n.opType());
      num(o, "localError", n.localError());
      num(o, "inputError", n.inputError());
      num(o, "outputError", n.outputError());
      num(o, "amplification", n.amplification());
      double[] agg = byOp.computeIfAbsent(n.opType(), k -> new double[] {0, 0, 0, 0, 0});
      agg[0]++;
      agg[1] = Math.max(agg[1], n.localError());
      if (Double.isFinite(n.amplification())) {
        agg[2] = Math.max(agg[2], n.amplification());
        agg[3] += n.amplification();
        agg[4]++;
      }
    }
    ArrayNode ops = doc.putArray("byOpType");
    byOp.forEach((op, agg) -> {
      ObjectNode o = ops.addObject();
      o.put("opType", op);
      o.put("count", (int) agg[0]);
      num(o, "maxLocalError", agg[1]);
      num(o, "maxAmplification", agg[4] > 0 ? agg[2] : Double.NaN);
      num(o, "meanAmplification", agg[4] > 0 ? agg[3] / agg[4] : Double.NaN);
    });
  }

  // ---------------------------------------------------------------- precision

  private record Search(PrecisionPlan plan, boolean pass, double fp16Fraction, List<TensorError> outputs,
      TensorError initialFirstFailing, List<Path> files) {}

  private Search runPrecision(Layerwise initial) {
    Set<String> floatNodes = e.floatNodes();
    PrecisionPlan p = e.plan;
    Layerwise lw = initial;
    List<String> added = new ArrayList<>();
    int rounds = 0;
    while (!lw.pass() && rounds++ < MAX_PRECISION_ROUNDS) {
      List<String> pin = nextToPin(lw, p);
      if (pin.isEmpty()) {
        break;
      }
      added.addAll(pin);
      p = p.pin(pin);
      lw = runLayerwise(p);
    }
    boolean pass = lw.pass();
    List<TensorError> outputs = lw.outputs();
    if (pass && added.size() <= MAX_PRUNE) {
      // Drop pins that turned out unnecessary (a later pin may have covered them), latest first.
      for (int i = added.size() - 1; i >= 0; i--) {
        Set<String> without = new LinkedHashSet<>(p.fp32Nodes());
        without.remove(added.get(i));
        PrecisionPlan q = p.withFp32Nodes(without);
        List<Map<String, Tensor>> c = e.runCandidate(q, List.of());
        List<TensorError> outs = e.compare(lw.ref(), c, floatOutputs(lw.ref()));
        if (outs.stream().allMatch(TensorError::passed)) {
          p = q;
          outputs = outs;
        }
      }
    }
    long pinnedFloat = p.fp32Nodes().stream().filter(floatNodes::contains).count();
    double fraction = floatNodes.isEmpty() ? 1.0 : 1.0 - (double) pinnedFloat / floatNodes.size();
    List<Path> files = writePlanFiles(p);
    return new Search(p, pass, fraction, outputs, initial.firstFailing(), files);
  }

  /** The nodes to pin next: the first failing tensor's node, or when already pinned, its producers. */
  private List<String> nextToPin(Layerwise lw, PrecisionPlan p) {
    for (TensorError t : lw.tensors()) {
      if (t.passed() || t.node().isEmpty()) {
        continue;
      }
      if (!p.fp32Nodes().contains(t.node())) {
        return List.of(t.node());
      }
      // Pinned but still failing: the error comes in through its inputs; pin their producers.
      List<String> producers = new ArrayList<>();
      for (String in : e.graph.node(t.node()).orElseThrow().getInputList()) {
        e.graph.producer(in).filter(n -> !p.fp32Nodes().contains(n.getName()))
            .ifPresent(n -> producers.add(n.getName()));
      }
      if (!producers.isEmpty()) {
        return producers;
      }
    }
    return List.of();
  }

  private List<Path> writePlanFiles(PrecisionPlan p) {
    if (outDir == null) {
      return List.of();
    }
    Path plan = AnalysisReport.write(outDir.resolve("plan.json"), p.toJson());
    Path flags = AnalysisReport.write(outDir.resolve("trtexec-flags.txt"), p.toTrtexecFlags() + "\n");
    List<Path> files = new ArrayList<>(List.of(plan, flags));
    ModelFiles.writeFp16Model(e.graph, p, outDir.resolve("model-fp16.onnx"), e.notes).ifPresent(files::add);
    return files;
  }

  PrecisionResult precision() {
    e.phase("precision", -1);
    Layerwise lw = runLayerwise(e.plan);
    Search s = runPrecision(lw);
    ObjectNode doc = base("precision", s.pass(), precisionSummary(s));
    putPlan(doc, s);
    putTensors(doc.putArray("outputs"), s.outputs());
    putFirstFailing(doc, s.initialFirstFailing(), rootCauseFromStats(s.initialFirstFailing()));
    return new PrecisionResult(finish(doc), s.plan(), s.fp16Fraction(), s.files());
  }

  private String precisionSummary(Search s) {
    int n = s.plan().fp32Nodes().size() - e.plan.fp32Nodes().size();
    if (s.initialFirstFailing() == null && n == 0) {
      return "all FP16 already passes; nothing to keep in FP32";
    }
    return s.pass()
        ? String.format(Locale.ROOT, "keep %d node(s) in FP32 and the outputs pass (FP16 fraction %.1f%%)",
            s.plan().fp32Nodes().size(), 100 * s.fp16Fraction())
        : "no passing plan found within " + MAX_PRECISION_ROUNDS + " rounds (" + s.plan().fp32Nodes().size()
            + " node(s) pinned); " + outputsSummary(s.outputs());
  }

  private void putPlan(ObjectNode doc, Search s) {
    ArrayNode fp32 = doc.putArray("fp32Nodes");
    s.plan().fp32Nodes().forEach(fp32::add);
    num(doc, "fp16Fraction", s.fp16Fraction());
    doc.put("trtexecFlags", s.plan().toTrtexecFlags());
    ArrayNode files = doc.putArray("files");
    s.files().forEach(f -> files.add(f.toString()));
  }

  // ---------------------------------------------------------------- reduce

  ReduceResult reduce() {
    e.phase("reduce", -1);
    Layerwise lw = runLayerwise(e.plan);
    TensorError ff = lw.firstFailing();
    if (ff == null) {
      ObjectNode doc = base("reduce", lw.pass(), "no tensor fails; nothing to reduce");
      doc.putArray("reducedNodes");
      return new ReduceResult(finish(doc), List.of(), null);
    }
    Set<String> nodes = new LinkedHashSet<>(List.of(ff.node()));
    boolean reproduces = false;
    Onnx.ModelProto sub = null;
    TensorError subError = null;
    for (int round = 0; round <= MAX_REDUCE_EXPANSIONS; round++) {
      Map<String, Tensor> known = new HashMap<>(e.samples.get(0));
      known.putAll(lw.ref().get(0));
      Subgraph s = Subgraph.of(e.graph, nodes, ff.tensor(), known);
      sub = s.model();
      List<Map<String, Tensor>> feeds = new ArrayList<>();
      for (Map<String, Tensor> ref : lw.ref()) {
        Map<String, Tensor> f = new LinkedHashMap<>();
        for (String in : s.inputs()) {
          f.put(in, ref.containsKey(in) ? ref.get(in) : e.samples.get(feeds.size()).get(in));
        }
        feeds.add(f);
      }
      List<Map<String, Tensor>> r = e.probe(e.reference, e.graph.refOf(sub, "reduced"), PrecisionPlan.allFp32(),
          List.of(), feeds, "reference reduced");
      List<Map<String, Tensor>> c = e.probe(e.candidate, e.graph.refOf(sub, "reduced"), e.plan, List.of(), feeds,
          "candidate reduced");
      subError = e.compareOne(r, c, ff.tensor());
      if (!subError.passed()) {
        reproduces = true;
        break;
      }
      Set<String> more = new LinkedHashSet<>(nodes);
      for (String in : s.inputs()) {
        e.graph.producer(in).ifPresent(n -> more.add(n.getName()));
      }
      if (more.size() == nodes.size()) {
        break;
      }
      nodes = more;
    }
    List<String> ordered = e.graph.nodes().stream().map(Onnx.NodeProto::getName).filter(nodes::contains)
        .collect(Collectors.toList());
    Path file = null;
    if (outDir != null && sub != null) {
      file = outDir.resolve("reduced.onnx");
      AnalysisReport.write(file, "");
      try {
        Files.write(file, sub.toByteArray());
      } catch (java.io.IOException ex) {
        throw new java.io.UncheckedIOException(ex);
      }
    }
    ObjectNode doc = base("reduce", lw.pass(), reproduces
        ? ordered.size() + " node(s) reproduce the failure of " + ff.tensor() + " on their own (" + subError.failure()
            + ")"
        : "the failure of " + ff.tensor() + " does not reproduce in a subgraph of up to " + ordered.size()
            + " node(s) fed exact inputs: it needs the accumulated error of the full model");
    putFirstFailing(doc, ff, rootCauseFromStats(ff));
    ArrayNode arr = doc.putArray("reducedNodes");
    for (String n : ordered) {
      arr.addObject().put("node", n).put("opType", e.graph.node(n).orElseThrow().getOpType());
    }
    doc.put("reproduces", reproduces);
    if (file != null) {
      doc.put("reducedModel", file.toString());
    }
    return new ReduceResult(finish(doc), ordered, file);
  }

  // ---------------------------------------------------------------- diagnose

  DiagnosisResult diagnose() {
    e.phase("diagnose", -1);
    Layerwise lw = runLayerwise(e.plan);
    TensorError ff = lw.firstFailing();
    Amplification a = runAmplify(lw);
    String cause = rootCause(ff, a.nodes());
    Search s = lw.pass() ? null : runPrecision(lw);

    ObjectNode cmp = base("compare", lw.pass(), outputsSummary(lw.outputs()));
    putTensors(cmp.putArray("outputs"), lw.outputs());
    CompareResult compare = new CompareResult(finish(cmp), lw.outputs());
    ObjectNode lwDoc = base("layerwise", lw.pass(), outputsSummary(lw.outputs()));
    putTensors(lwDoc.putArray("tensors"), lw.tensors());
    putFirstFailing(lwDoc, ff, cause);
    LayerwiseResult layerwise = new LayerwiseResult(finish(lwDoc), lw.tensors());
    ObjectNode ampDoc = base("amplify", lw.pass(), amplifySummary(a));
    putAmplification(ampDoc, a.nodes());
    AmplifyResult amplify = new AmplifyResult(finish(ampDoc), a.nodes());
    PrecisionResult precision = null;
    if (s != null) {
      ObjectNode pDoc = base("precision", s.pass(), precisionSummary(s));
      putPlan(pDoc, s);
      precision = new PrecisionResult(finish(pDoc), s.plan(), s.fp16Fraction(), s.files());
    }

    String summary = outputsSummary(lw.outputs()) + (ff == null ? "" : "; first failing tensor " + ff.tensor()
        + " (" + ff.opType() + " " + ff.node() + ")");
    ObjectNode doc = base("diagnose", lw.pass(), summary);
    putTensors(doc.putArray("outputs"), lw.outputs());
    putFirstFailing(doc, ff, cause);
    putTensors(doc.putArray("tensors"), lw.tensors());
    putAmplification(doc, a.nodes());
    if (s != null) {
      putPlan(doc, s);
      doc.put("fix", s.pass()
          ? String.format(Locale.ROOT, "keep %d node(s) in FP32 (%s); FP16 fraction %.1f%%; outputs then pass. "
              + "Plan in plan.json; TensorRT: trtexec %s", s.plan().fp32Nodes().size(),
              String.join(", ", s.plan().fp32Nodes()), 100 * s.fp16Fraction(), s.plan().toTrtexecFlags())
          : "no passing precision plan found within the search budget; " + outputsSummary(s.outputs()));
    }
    return new DiagnosisResult(finish(doc), compare, layerwise, amplify, precision);
  }

  // ---------------------------------------------------------------- root causes

  private static String rootCauseFromStats(TensorError t) {
    if (t == null) {
      return null;
    }
    TensorError.Stats s = t.stats();
    if (s.newNonFinite() > 0 && s.refMaxAbs() > Half.MAX_VALUE) {
      return String.format(Locale.ROOT, "FP16 overflow: the reference reaches |x| = %s, above the FP16 maximum 65504, "
          + "so %d value(s) become inf/NaN in FP16", fmt(s.refMaxAbs()), s.newNonFinite());
    }
    if (s.newNonFinite() > 0) {
      return "non-finite values in FP16 where FP32 is finite (an intermediate overflowed to inf)";
    }
    if (s.refMaxAbs() > 0 && s.refMaxAbs() < Half.MIN_NORMAL) {
      return "FP16 underflow: all reference values are below the smallest normal FP16 number 6.1e-5";
    }
    return "FP16 rounding error of " + fmt(s.normalizedError()) + " (normalized)";
  }

  private String rootCause(TensorError t, List<NodeAmplification> nodes) {
    if (t == null) {
      return null;
    }
    String base = rootCauseFromStats(t);
    NodeAmplification n = nodes.stream().filter(x -> x.node().equals(t.node())).findFirst().orElse(null);
    if (n == null) {
      return base;
    }
    double bound = e.tolerance.maxNormalizedError();
    if (n.localError() > bound || !Double.isFinite(n.localError())) {
      return "born in this node (local error " + fmt(n.localError()) + " on exact inputs): " + base;
    }
    return "inherited and amplified: its inputs carry error " + fmt(n.inputError()) + ", the node alone adds "
        + fmt(n.localError()) + " and amplifies x" + fmt(n.amplification()) + " (" + base + ")";
  }

  // ---------------------------------------------------------------- JSON helpers

  private ObjectNode base(String command, boolean pass, String summary) {
    ObjectNode doc = AnalysisReport.newDocument();
    doc.put("schema", AnalysisReport.SCHEMA);
    doc.put("command", command);
    doc.put("model", e.graph.name());
    ObjectNode b = doc.putObject("backend");
    b.put("reference", e.reference.toString());
    b.put("candidate", e.candidate.toString());
    doc.put("verdict", pass ? "pass" : "fail");
    doc.put("builds", 0);
    doc.put("summary", summary);
    doc.put("tolerance", e.tolerance.toString());
    doc.put("samples", e.samples.size());
    if (!e.plan.fp32Nodes().isEmpty()) {
      ArrayNode pinned = doc.putArray("candidatePlanFp32Nodes");
      e.plan.fp32Nodes().forEach(pinned::add);
    }
    return doc;
  }

  private AnalysisReport finish(ObjectNode doc) {
    doc.put("builds", e.candidateBuilds());
    ArrayNode notes = doc.putArray("notes");
    new LinkedHashSet<>(e.notes).forEach(notes::add);
    return AnalysisReport.of(doc);
  }

  private static void putTensors(ArrayNode arr, Collection<TensorError> tensors) {
    for (TensorError t : tensors) {
      ObjectNode o = arr.addObject();
      o.put("name", t.tensor());
      o.put("tensor", t.tensor());
      o.put("node", t.node());
      o.put("opType", t.opType());
      num(o, "normalizedError", t.stats().normalizedError());
      num(o, "maxAbs", t.stats().maxAbs());
      num(o, "meanAbs", t.stats().meanAbs());
      num(o, "refMaxAbs", t.stats().refMaxAbs());
      o.put("nonFinite", t.stats().newNonFinite());
      o.put("verdict", t.passed() ? "pass" : "fail");
      if (!t.passed()) {
        o.put("reason", t.failure());
      }
    }
  }

  private static void putFirstFailing(ObjectNode doc, TensorError t, String rootCause) {
    if (t == null) {
      doc.putNull("firstFailing");
      return;
    }
    ObjectNode o = doc.putObject("firstFailing");
    o.put("tensor", t.tensor());
    o.put("node", t.node());
    o.put("opType", t.opType());
    num(o, "normalizedError", t.stats().normalizedError());
    num(o, "maxAbs", t.stats().maxAbs());
    num(o, "refMaxAbs", t.stats().refMaxAbs());
    o.put("reason", t.failure());
    if (rootCause != null) {
      o.put("rootCause", rootCause);
    }
  }

  /** JSON has no NaN/Infinity: NaN is null, infinity the string "inf". */
  private static void num(ObjectNode o, String field, double v) {
    if (Double.isNaN(v)) {
      o.putNull(field);
    } else if (Double.isInfinite(v)) {
      o.put(field, v > 0 ? "inf" : "-inf");
    } else {
      o.put(field, v);
    }
  }

  static String fmt(double v) {
    return Double.isInfinite(v) ? "inf" : String.format(Locale.ROOT, "%.3g", v);
  }
}
