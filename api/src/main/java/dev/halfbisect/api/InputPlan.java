package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.bisect.ModelGraph;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TensorInfo;
import dev.halfbisect.core.data.InputGenerator;
import dev.halfbisect.core.data.InputSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import javax.annotation.CheckForNull;

/**
 * Turns what the caller gave (input specs, tensors, nothing) into concrete input samples that fit
 * the model, and validates them against its declared inputs before any backend starts.
 *
 * <p>Inputs not given are derived from the model's declared input: a symbolic dim shared with a
 * given input takes its size; other unknown dims become 1 for the first (batch) axis and 128 for
 * the others when the input is an integer (token ids, masks) or 64 when it is a float; integers
 * named like {@code *mask*} are all 1, like {@code *type*} all 0, other integers uniform in [0,
 * 1000) (token ids); floats uniform in [-1, 1); bools true. When the model looks like a BERT (an
 * integer input named like {@code *input_ids*} beside one named like {@code *mask*}), derived token
 * ids start with 101 ([CLS]) and end with 102 ([SEP]) as real sequences do (issue 15: the first
 * token changes which LayerNorms overflow); the notes say so.
 *
 * <p>A sample set (files, text) gives the samples one by one: its size is the sample count, and
 * inputs a sample lacks are filled as above.
 */
final class InputPlan {
  /**
   * Parses {@code NAME:SHAPE:DTYPE:FILL} (core {@link InputSpec}), as a usage error when malformed.
   */
  static InputSpec parse(String text) {
    try {
      return InputSpec.parse(text);
    } catch (IllegalArgumentException e) {
      throw HalfBisectException.usage(e.getMessage());
    }
  }

  private InputPlan() {}

  /** The spec used for an input that the caller did not give. */
  static InputSpec derive(TensorInfo in, List<String> dimParams, Map<String, Long> bound) {
    return derive(in, in.shape(), dimParams, bound, false);
  }

  /** BERT's [CLS] and [SEP] token ids, pinned around derived token ids of a BERT-like model. */
  static final long CLS = 101;

  static final long SEP = 102;

  /** Whether the inputs look like a BERT's: integer {@code *input_ids*} and {@code *mask*}. */
  static boolean looksLikeBert(List<TensorInfo> inputs) {
    boolean ids = false;
    boolean mask = false;
    for (TensorInfo in : inputs) {
      if (in.dtype() != null && !in.dtype().isFloatingPoint() && in.dtype() != DType.BOOL) {
        String n = in.name().toLowerCase(Locale.ROOT);
        ids |= n.contains("input_ids");
        mask |= n.contains("mask");
      }
    }
    return ids && mask;
  }

  private static InputSpec derive(
      TensorInfo in, long[] shape, List<String> dimParams, Map<String, Long> bound, boolean bert) {
    if (in.dtype() == null) {
      throw new HalfBisectException(
          HalfBisectException.Kind.MODEL,
          "input '"
              + in.name()
              + "' has an element type halfbisect does not handle; give it with --load-inputs");
    }
    boolean integer = !in.dtype().isFloatingPoint();
    shape = shape.clone();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        String p = i < dimParams.size() ? dimParams.get(i) : "";
        shape[i] = bound.containsKey(p) ? bound.get(p) : i == 0 ? 1 : (integer ? 128 : 64);
      }
    }
    String n = in.name().toLowerCase(Locale.ROOT);
    if (in.dtype() == DType.BOOL) {
      return new InputSpec(in.name(), shape, in.dtype(), new InputSpec.Constant(1));
    }
    if (integer) {
      if (n.contains("mask")) {
        return new InputSpec(in.name(), shape, in.dtype(), new InputSpec.Constant(1));
      }
      if (n.contains("type")) {
        return new InputSpec(in.name(), shape, in.dtype(), new InputSpec.Constant(0));
      }
      InputSpec ids = new InputSpec(in.name(), shape, in.dtype(), new InputSpec.Uniform(0, 1000));
      boolean pinnable = bert && shape.length > 0 && shape[shape.length - 1] >= 2;
      return pinnable && n.contains("input_ids")
          ? ids.withPins(List.of(new InputSpec.Pin(0, CLS), new InputSpec.Pin(-1, SEP)))
          : ids;
    }
    return new InputSpec(in.name(), shape, in.dtype(), new InputSpec.Uniform(-1, 1));
  }

  /** Concrete input samples and the notes on how they were made (derived inputs). */
  record Prepared(ImmutableList<Map<String, Tensor>> samples, ImmutableList<String> notes) {}

  /**
   * The {@code settings.samples()} input maps: given tensors are used in every sample, specs and
   * derived inputs are drawn from {@code settings.seed()}. Notes name the derived inputs.
   */
  static Prepared prepare(ModelGraph g, AnalysisSettings settings) {
    return build(g, settings, settings.samples(), null);
  }

  /**
   * issue 20: {@link #prepare} with the inputs {@code shapes} names at those shapes (already
   * checked against the model): a spec keeps its dtype, fill and pins; a derived input is derived
   * at that shape; symbolic dims it shares with other inputs take its sizes. Loaded or given data
   * of another shape is a usage error: no data is invented for it.
   */
  static Prepared prepare(ModelGraph g, AnalysisSettings settings, ShapeSet shapes) {
    return build(g, settings, settings.samples(), shapes);
  }

  /** Validates the settings' inputs against the model without drawing any tensor. */
  static void check(ModelGraph g, AnalysisSettings settings) {
    build(g, settings, 0, null);
  }

  private static Prepared build(
      ModelGraph g, AnalysisSettings settings, int samples, @CheckForNull ShapeSet shapes) {
    List<TensorInfo> inputs = declaredInputs(g);
    Map<String, Tensor> given = settings.givenInputs();
    List<? extends Map<String, Tensor>> set = settings.sampleSet();
    if (!set.isEmpty()) {
      if (settings.samples() != 1 && settings.samples() != set.size()) {
        throw HalfBisectException.usage(
            "--samples "
                + settings.samples()
                + " conflicts with the "
                + set.size()
                + " samples loaded from files or text: a sample set gives the sample count");
      }
      samples = samples == 0 ? 0 : set.size();
    }
    Map<String, TensorInfo> declared = new LinkedHashMap<>();
    inputs.forEach(i -> declared.put(i.name(), i));
    Map<String, InputSpec> bySpec = new LinkedHashMap<>();
    for (InputSpec s : settings.inputSpecs()) {
      TensorInfo in =
          declaredInput(
              declared,
              s.name(),
              inputs,
              "--input " + s + ": model " + g.name() + " has no input '" + s.name() + "'");
      check(in, s.dtype(), s.shape(), "--input " + s, hasUnknownRank(g, in.name()));
      bySpec.put(s.name(), s);
    }
    for (Map.Entry<String, Tensor> e : given.entrySet()) {
      TensorInfo in =
          declaredInput(
              declared,
              e.getKey(),
              inputs,
              "input tensor '" + e.getKey() + "' is not an input of model " + g.name());
      check(
          in,
          e.getValue().dtype(),
          e.getValue().shape(),
          "input tensor '" + e.getKey() + "'",
          hasUnknownRank(g, in.name()));
    }
    for (int i = 0; i < set.size(); i++) {
      for (Map.Entry<String, Tensor> e : set.get(i).entrySet()) {
        TensorInfo in =
            declaredInput(
                declared,
                e.getKey(),
                inputs,
                "sample "
                    + i
                    + ": tensor '"
                    + e.getKey()
                    + "' is not an input of model "
                    + g.name());
        check(
            in,
            e.getValue().dtype(),
            e.getValue().shape(),
            "sample " + i + " input '" + e.getKey() + "'",
            hasUnknownRank(g, in.name()));
      }
    }
    if (shapes != null) {
      applyShapes(shapes, bySpec, given, set);
    }
    // Symbolic dims (batch, sequence) take the size the given inputs use, so derived inputs fit
    // them; a shape set's sizes come first.
    Map<String, Long> bound = new HashMap<>();
    for (TensorInfo in : inputs) {
      long[] shape = shapes == null ? null : shapes.dims(in.name());
      List<String> params = g.inputDimNames(in.name());
      for (int i = 0; shape != null && i < Math.min(shape.length, params.size()); i++) {
        if (!params.get(i).isEmpty()) {
          bound.putIfAbsent(params.get(i), shape[i]);
        }
      }
    }
    for (TensorInfo in : inputs) {
      long[] shape =
          bySpec.containsKey(in.name())
              ? bySpec.get(in.name()).shape()
              : given.containsKey(in.name())
                  ? given.get(in.name()).shape()
                  : !set.isEmpty() && set.get(0).containsKey(in.name())
                      ? set.get(0).get(in.name()).shape()
                      : null;
      List<String> params = g.inputDimNames(in.name());
      for (int i = 0; shape != null && i < Math.min(shape.length, params.size()); i++) {
        if (!params.get(i).isEmpty()) {
          bound.putIfAbsent(params.get(i), shape[i]);
        }
      }
    }
    List<InputSpec> derived = new ArrayList<>();
    boolean bert = looksLikeBert(inputs);
    for (TensorInfo in : inputs) {
      boolean inEverySample =
          !set.isEmpty() && set.stream().allMatch(m -> m.containsKey(in.name()));
      if (!bySpec.containsKey(in.name()) && !given.containsKey(in.name()) && !inEverySample) {
        long[] override = shapes == null ? null : shapes.dims(in.name());
        if (override != null) {
          InputSpec d = derive(in, override, List.of(), bound, bert);
          bySpec.put(in.name(), d);
          derived.add(d);
          continue;
        }
        if (hasUnknownRank(g, in.name())) {
          throw HalfBisectException.usage(
              "input '"
                  + in.name()
                  + "' of "
                  + g.name()
                  + " declares no shape; give it with --input NAME:SHAPE:DTYPE:FILL or --load-inputs");
        }
        // issue 16: a declared 0 dim is an empty input, not a dynamic one to make 1
        long[] zeroCheck = g.shape(in.name()).orElse(new long[0]);
        if (Arrays.stream(zeroCheck).anyMatch(x -> x == 0)) {
          throw HalfBisectException.usage(
              "input '"
                  + in.name()
                  + "' of "
                  + g.name()
                  + " declares an empty shape "
                  + Tensor.shapeToString(zeroCheck).replace("-1", "?")
                  + " (a dim of 0): there is nothing to compare; give it with --input "
                  + "NAME:SHAPE:DTYPE:FILL or --load-inputs");
        }
        InputSpec d = derive(in, in.shape(), g.inputDimNames(in.name()), bound, bert);
        bySpec.put(in.name(), d);
        derived.add(d);
      }
    }
    ImmutableList.Builder<String> noteList = ImmutableList.builder();
    if (!derived.isEmpty()) {
      noteList.add(
          "inputs not given, derived from the model: "
              + derived.stream().map(InputSpec::toString).collect(Collectors.joining(" ")));
    }
    if (derived.stream().anyMatch(d -> !d.pins().isEmpty())) {
      noteList.add(
          "the model looks like a BERT (inputs named input_ids and *mask*): derived token ids start"
              + " with "
              + CLS
              + " ([CLS]) and end with "
              + SEP
              + " ([SEP]) as real sequences do; give --input, --load-inputs or --text to choose");
    }
    ImmutableList<String> notes = noteList.build();
    requireHeapFor(samples, bySpec, given);
    ImmutableList.Builder<Map<String, Tensor>> out = ImmutableList.builder();
    for (int s = 0; s < samples; s++) {
      Map<String, Tensor> sample = new LinkedHashMap<>();
      Map<String, Tensor> fromSet = set.isEmpty() ? Map.of() : set.get(s);
      for (TensorInfo in : inputs) {
        Tensor t = fromSet.containsKey(in.name()) ? fromSet.get(in.name()) : given.get(in.name());
        sample.put(
            in.name(),
            t != null ? t : InputGenerator.generate(spec(in, bySpec, set, s), s, settings.seed()));
      }
      out.add(sample);
    }
    return new Prepared(out.build(), notes);
  }

  /**
   * Puts a shape set's shapes into the specs; loaded or given data of the input must already have
   * that shape (no data is invented for another one).
   */
  private static void applyShapes(
      ShapeSet shapes,
      Map<String, InputSpec> bySpec,
      Map<String, Tensor> given,
      List<? extends Map<String, Tensor>> set) {
    for (String name : shapes.shapes().keySet()) {
      long[] dims = shapes.dims(name);
      List<Tensor> loaded = new ArrayList<>();
      if (given.containsKey(name)) {
        loaded.add(given.get(name));
      }
      set.stream().filter(m -> m.containsKey(name)).forEach(m -> loaded.add(m.get(name)));
      for (Tensor t : loaded) {
        if (!Arrays.equals(t.shape(), dims)) {
          throw HalfBisectException.usage(
              "--shape "
                  + shapes
                  + ": input "
                  + name
                  + " is loaded data of shape "
                  + Tensor.shapeToString(t.shape())
                  + " and halfbisect does not invent data of another shape; load "
                  + name
                  + " at "
                  + Tensor.shapeToString(dims)
                  + " or leave it out of --shape");
        }
      }
      InputSpec spec = bySpec.get(name);
      if (spec != null) {
        try {
          bySpec.put(name, new InputSpec(name, dims, spec.dtype(), spec.fill(), spec.pins()));
        } catch (IllegalArgumentException e) {
          throw HalfBisectException.usage("--shape " + shapes + ": " + e.getMessage());
        }
      }
    }
  }

  /** The spec of an input a sample lacks: its own spec, else derived like a missing input. */
  private static InputSpec spec(
      TensorInfo in,
      Map<String, InputSpec> bySpec,
      List<? extends Map<String, Tensor>> set,
      int s) {
    InputSpec spec = bySpec.get(in.name());
    if (spec == null) {
      throw HalfBisectException.usage(
          "sample " + s + " lacks input '" + in.name() + "' and no --input gives it");
    }
    return spec;
  }

  /**
   * issue 16: fails at once, naming the remedy, when the generated samples alone cannot fit the
   * Java heap (e.g. {@code --samples 2147483647}), instead of an out-of-memory minutes later.
   */
  private static void requireHeapFor(
      int samples, Map<String, InputSpec> bySpec, Map<String, Tensor> given) {
    long perSample = 0;
    for (Map.Entry<String, InputSpec> e : bySpec.entrySet()) {
      if (given.containsKey(e.getKey())) {
        continue;
      }
      long n = 1;
      for (long d : e.getValue().shape()) {
        n = com.google.common.math.LongMath.saturatedMultiply(n, Math.max(d, 1));
      }
      perSample =
          com.google.common.math.LongMath.saturatedAdd(
              perSample,
              com.google.common.math.LongMath.saturatedMultiply(
                  n, e.getValue().dtype().byteSize()));
    }
    long need = com.google.common.math.LongMath.saturatedMultiply(perSample, samples);
    long heap = Runtime.getRuntime().maxMemory();
    if (need > heap) {
      throw new HalfBisectException(
          HalfBisectException.Kind.BACKEND,
          "out of memory: "
              + samples
              + " samples of the inputs need "
              + (need >> 20)
              + " MiB, more than the "
              + (heap >> 20)
              + " MiB Java may use; use fewer samples (--samples) or give Java more memory "
              + "(HALFBISECT_JAVA_OPTS=-Xmx8g halfbisect ...)");
    }
  }

  /**
   * The model's inputs (initializers excluded) with their element type (null where core has no
   * {@link DType}) and static dims; an unknown, symbolic or zero dim is -1, a shape not declared at
   * all is rank 0 (see {@link #hasUnknownRank}).
   */
  private static List<TensorInfo> declaredInputs(ModelGraph g) {
    List<TensorInfo> r = new ArrayList<>();
    for (String name : g.graphInputs()) {
      long[] shape =
          g.shape(name)
              .map(s -> Arrays.stream(s).map(d -> d > 0 ? d : -1).toArray())
              .orElse(new long[0]);
      r.add(new TensorInfo(name, g.elementType(name).orElse(null), shape));
    }
    return r;
  }

  /** Whether the input declares no shape at all (any rank accepted). */
  private static boolean hasUnknownRank(ModelGraph g, String input) {
    return g.shape(input).isEmpty();
  }

  private static void check(
      TensorInfo in, DType dtype, long[] shape, String what, boolean anyRank) {
    if (anyRank) {
      if (in.dtype() != dtype) {
        throw HalfBisectException.usage(
            what + " is " + dtype.cliName() + " but the model expects " + in.dtype().cliName());
      }
      return;
    }
    boolean ok = in.dtype() == dtype && in.shape().length == shape.length;
    for (int i = 0; ok && i < shape.length; i++) {
      ok = in.shape()[i] < 0 || in.shape()[i] == shape[i];
    }
    if (!ok) {
      throw HalfBisectException.usage(
          what
              + " is "
              + dtype.cliName()
              + " ["
              + Tensor.shapeToString(shape)
              + "] but the model expects "
              + in.describe());
    }
  }

  /**
   * The declared input {@code name}, else a usage error: {@code notFound} and the model's inputs.
   */
  private static TensorInfo declaredInput(
      Map<String, TensorInfo> declared, String name, List<TensorInfo> inputs, String notFound) {
    TensorInfo in = declared.get(name);
    if (in == null) {
      throw HalfBisectException.usage(notFound + "; its inputs are " + describe(inputs));
    }
    return in;
  }

  static String describe(List<TensorInfo> inputs) {
    return inputs.stream().map(TensorInfo::describe).collect(Collectors.joining(", "));
  }
}
