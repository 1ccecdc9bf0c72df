package dev.halfbisect.api;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.core.backend.TensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Turns what the caller gave (input specs, tensors, nothing) into concrete input samples that fit
 * the model, and validates them against its declared inputs before any backend starts.
 *
 * <p>Inputs not given are derived from the model's declared input: unknown dims become 1 for the
 * first (batch) axis and 128 for the others when the input is an integer (token ids, masks) or 64
 * when it is a float; integers named like {@code *mask*} are all 1, like {@code *type*} all 0, other
 * integers uniform in [0, 1000) (token ids); floats uniform in [-1, 1); bools true.
 */
final class InputPlan {
  /** One {@code NAME:SHAPE:DTYPE:FILL} spec. */
  record Spec(String name, long[] shape, DType dtype, double lo, double hi, boolean constant, String text) {
    static Spec parse(String text) {
      String[] p = text.split(":", -1);
      if (p.length != 4 || p[0].isBlank()) {
        throw HalfBisectException.usage("input '" + text + "' must be NAME:SHAPE:DTYPE:FILL, "
            + "e.g. input_ids:1x128:int64:1000..21000 or attention_mask:1x128:int64:1");
      }
      long[] shape;
      try {
        shape = p[1].isEmpty() ? new long[0]
            : Arrays.stream(p[1].split("x")).mapToLong(Long::parseLong).toArray();
      } catch (NumberFormatException e) {
        throw HalfBisectException.usage("input '" + text + "': shape '" + p[1] + "' must be dims joined by x, e.g. 1x128");
      }
      for (long d : shape) {
        if (d <= 0) {
          throw HalfBisectException.usage("input '" + text + "': dims must be positive, got " + p[1]);
        }
      }
      DType dt;
      try {
        dt = DType.parse(p[2]);
      } catch (IllegalArgumentException e) {
        throw HalfBisectException.usage("input '" + text + "': " + e.getMessage());
      }
      try {
        int dots = p[3].indexOf("..");
        if (dots >= 0) {
          double lo = Double.parseDouble(p[3].substring(0, dots));
          double hi = Double.parseDouble(p[3].substring(dots + 2));
          if (!(hi > lo)) {
            throw HalfBisectException.usage("input '" + text + "': range " + p[3] + " must have LO < HI");
          }
          return new Spec(p[0], shape, dt, lo, hi, false, text);
        }
        double v = Double.parseDouble(p[3]);
        return new Spec(p[0], shape, dt, v, v, true, text);
      } catch (NumberFormatException e) {
        throw HalfBisectException.usage("input '" + text + "': fill '" + p[3]
            + "' must be LO..HI (uniform) or a number (constant)");
      }
    }

    Tensor generate(Random rnd) {
      int n = (int) Tensor.elementCount(shape);
      float[] v = new float[n];
      boolean integer = !dtype.isFloatingPoint();
      for (int i = 0; i < n; i++) {
        if (constant) {
          v[i] = (float) lo;
        } else if (integer) {
          v[i] = (float) Math.floor(lo + rnd.nextDouble() * (hi - lo));
          v[i] = (float) Math.min(v[i], Math.ceil(hi) - 1);
        } else {
          v[i] = (float) (lo + rnd.nextDouble() * (hi - lo));
        }
      }
      if (dtype == DType.INT64 && !constant) {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          l[i] = (long) Math.floor(lo + rnd.nextDouble() * (hi - lo));
        }
        return Tensor.ofLongs(shape, l);
      }
      return Tensor.fromFloats(dtype, shape, v);
    }

    String describe() {
      return name + ":" + Tensor.shapeToString(shape) + ":" + dtype.cliName() + ":"
          + (constant ? fmt(lo) : fmt(lo) + ".." + fmt(hi));
    }

    private static String fmt(double d) {
      return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
  }

  private InputPlan() {}

  /** The spec used for an input that the caller did not give. */
  static Spec derive(TensorInfo in) {
    if (in.dtype() == null) {
      throw new HalfBisectException(HalfBisectException.Kind.MODEL, "input '" + in.name()
          + "' has an element type halfbisect does not handle; give it with --load-inputs");
    }
    boolean integer = !in.dtype().isFloatingPoint();
    long[] shape = in.shape();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = i == 0 ? 1 : (integer ? 128 : 64);
      }
    }
    String n = in.name().toLowerCase(Locale.ROOT);
    if (in.dtype() == DType.BOOL) {
      return new Spec(in.name(), shape, in.dtype(), 1, 1, true, "");
    }
    if (integer) {
      if (n.contains("mask")) {
        return new Spec(in.name(), shape, in.dtype(), 1, 1, true, "");
      }
      if (n.contains("type")) {
        return new Spec(in.name(), shape, in.dtype(), 0, 0, true, "");
      }
      return new Spec(in.name(), shape, in.dtype(), 0, 1000, false, "");
    }
    return new Spec(in.name(), shape, in.dtype(), -1, 1, false, "");
  }

  /**
   * Builds {@code samples} input maps: given tensors are used in every sample, specs and derived
   * inputs are drawn from {@code seed}. Adds a line per derived input to {@code notes}.
   */
  static List<Map<String, Tensor>> build(ModelGraph g, List<Spec> specs, Map<String, Tensor> given, int samples,
      long seed, List<String> notes) {
    Map<String, TensorInfo> declared = new LinkedHashMap<>();
    g.inputs().forEach(i -> declared.put(i.name(), i));
    Map<String, Spec> bySpec = new LinkedHashMap<>();
    for (Spec s : specs) {
      TensorInfo in = declared.get(s.name());
      if (in == null) {
        throw HalfBisectException.usage("--input " + s.text() + ": model " + g.name() + " has no input '" + s.name()
            + "'; its inputs are " + describe(g.inputs()));
      }
      check(in, s.dtype(), s.shape(), "--input " + s.text());
      bySpec.put(s.name(), s);
    }
    for (Map.Entry<String, Tensor> e : given.entrySet()) {
      TensorInfo in = declared.get(e.getKey());
      if (in == null) {
        throw HalfBisectException.usage("input tensor '" + e.getKey() + "' is not an input of model " + g.name()
            + "; its inputs are " + describe(g.inputs()));
      }
      check(in, e.getValue().dtype(), e.getValue().shape(), "input tensor '" + e.getKey() + "'");
    }
    List<Spec> derived = new ArrayList<>();
    for (TensorInfo in : g.inputs()) {
      if (!bySpec.containsKey(in.name()) && !given.containsKey(in.name())) {
        Spec d = derive(in);
        bySpec.put(in.name(), d);
        derived.add(d);
      }
    }
    if (!derived.isEmpty()) {
      notes.add("inputs not given, derived from the model: "
          + derived.stream().map(Spec::describe).collect(Collectors.joining(" ")));
    }
    ImmutableList.Builder<Map<String, Tensor>> out = ImmutableList.builder();
    for (int s = 0; s < samples; s++) {
      Random rnd = new Random(seed * 1_000_003L + s);
      Map<String, Tensor> sample = new LinkedHashMap<>();
      for (TensorInfo in : g.inputs()) {
        Tensor t = given.get(in.name());
        sample.put(in.name(), t != null ? t : bySpec.get(in.name()).generate(rnd));
      }
      out.add(sample);
    }
    return out.build();
  }

  private static void check(TensorInfo in, DType dtype, long[] shape, String what) {
    boolean ok = in.dtype() == dtype && in.shape().length == shape.length;
    for (int i = 0; ok && i < shape.length; i++) {
      ok = in.shape()[i] < 0 || in.shape()[i] == shape[i];
    }
    if (!ok) {
      throw HalfBisectException.usage(what + " is " + dtype.cliName() + " [" + Tensor.shapeToString(shape)
          + "] but the model expects " + in.describe());
    }
  }

  static String describe(List<TensorInfo> inputs) {
    return inputs.stream().map(TensorInfo::describe).collect(Collectors.joining(", "));
  }
}
