package dev.halfbisect.onnx.builder;

import com.google.common.base.Preconditions;
import com.google.common.collect.ImmutableList;
import dev.halfbisect.core.DType;
import dev.halfbisect.core.Tensor;
import dev.halfbisect.onnx.OnnxModel;
import dev.halfbisect.onnx.ValueInference;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Builds small ONNX models in Java for tests and examples, deterministically: the same calls give
 * the same bytes. Node names follow PyTorch's exporter: a scope stack ({@link #scope}) gives names
 * such as {@code /blocks/blocks.5/attn/MatMul}, repeated ops in a scope get {@code _1}, {@code _2}
 * ..., and a node's outputs are called {@code <node name>_output_<i>}. The builder infers the
 * element type and shape of every value it creates with onnx-surgery's {@link ValueInference} (the
 * rules {@link dev.halfbisect.onnx.GraphIndex} applies), so that {@link #output} declares typed
 * graph outputs.
 *
 * <p>Random weights come from one {@link SplittableRandom} seeded by {@link #seed(long)} (default
 * 0): {@link #weight} draws uniform values in {@code [-scale, scale)}, {@link #weightNormal} draws
 * normal values with mean 0 and the given standard deviation.
 *
 * <p>Opset differences are handled where an op changed form: ReduceMean (axes attribute below 18,
 * input from 18), ReduceSum (input from 13), Squeeze/Unsqueeze/Split (inputs from 13), Pad (input
 * from 11), Slice (inputs from 10), Resize (roi+scales inputs from 11).
 *
 * <p>Not thread-safe; one builder builds one model.
 */
public final class GraphBuilder {
  /** ir_version written for opsets up to 18 (ONNX 1.10-1.13 era); 9 above. */
  private static final int IR_VERSION_UP_TO_OPSET_18 = 8;

  private final String graphName;
  private final int opset;
  private SplittableRandom random = new SplittableRandom(0);
  private long irVersion;

  private final List<Onnx.NodeProto> nodes = new ArrayList<>();
  private final List<Onnx.TensorProto> initializers = new ArrayList<>();
  private final List<Onnx.ValueInfoProto> inputs = new ArrayList<>();
  private final List<Onnx.ValueInfoProto> outputs = new ArrayList<>();
  private final Set<String> outputNames = new LinkedHashSet<>();
  private final Set<String> values = new HashSet<>();
  private final ValueInference inference = new ValueInference();
  private final Set<String> nodeNames = new HashSet<>();
  private final Map<String, Integer> nameCounters = new HashMap<>();
  private final Deque<String> scopes = new ArrayDeque<>();

  private GraphBuilder(String graphName, int opset) {
    this.graphName = graphName;
    this.opset = opset;
    this.irVersion = opset <= 18 ? IR_VERSION_UP_TO_OPSET_18 : 9;
  }

  /**
   * A builder for a graph with this name importing the default ONNX domain at {@code opset}.
   *
   * @throws IllegalArgumentException for opsets below 9 (not supported by the op helpers)
   */
  public static GraphBuilder create(String graphName, int opset) {
    Preconditions.checkNotNull(graphName, "graphName");
    Preconditions.checkArgument(opset >= 9 && opset <= 23, "opset %s not supported (9..23)", opset);
    return new GraphBuilder(graphName, opset);
  }

  public int opset() {
    return opset;
  }

  /** Reseeds the random source of {@link #weight} and {@link #weightNormal}. */
  public GraphBuilder seed(long seed) {
    random = new SplittableRandom(seed);
    return this;
  }

  /** Overrides the ir_version written into the model (default 8 up to opset 18, else 9). */
  public GraphBuilder irVersion(long version) {
    Preconditions.checkArgument(version >= 3, "ir_version %s too old", version);
    irVersion = version;
    return this;
  }

  // ---------------------------------------------------------------- scopes

  /** A scope opened by {@link #scope}; closing it calls {@link #endScope()}. */
  public final class Scope implements AutoCloseable {
    private final int depth;

    private Scope(int depth) {
      this.depth = depth;
    }

    @Override
    public void close() {
      Preconditions.checkState(scopes.size() == depth, "scopes closed out of order");
      endScope();
    }
  }

  /**
   * Enters a naming scope. A path starting with {@code /} replaces the current scope ({@code
   * /blocks/blocks.5/attn}); otherwise it is appended ({@code attn} inside {@code
   * /blocks/blocks.5}). Use with try-with-resources or pair with {@link #endScope()}.
   */
  public Scope scope(String path) {
    Preconditions.checkArgument(
        path != null && !path.isEmpty() && !path.equals("/"), "empty scope");
    String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    String full = p.startsWith("/") ? p : currentScope() + "/" + p;
    scopes.push(full);
    return new Scope(scopes.size());
  }

  public GraphBuilder endScope() {
    Preconditions.checkState(!scopes.isEmpty(), "endScope without an open scope");
    scopes.pop();
    return this;
  }

  /** The current scope path, {@code ""} at top level. */
  public String currentScope() {
    return scopes.isEmpty() ? "" : scopes.peek();
  }

  // ---------------------------------------------------------------- inputs, weights, constants

  /** A graph input; a dimension of -1 becomes a symbolic dim named {@code <name>_dim<i>}. */
  public String input(String name, DType dtype, long... shape) {
    Object[] dims = new Object[shape.length];
    for (int i = 0; i < shape.length; i++) {
      Preconditions.checkArgument(shape[i] >= -1, "input %s: bad dim %s", name, shape[i]);
      dims[i] = shape[i] == -1 ? name + "_dim" + i : (Object) shape[i];
    }
    return dynamicInput(name, dtype, dims);
  }

  /**
   * A graph input whose dims are numbers (Integer/Long) or symbolic names (String), e.g. {@code
   * dynamicInput("input_ids", INT64, "batch", "seq")}.
   */
  public String dynamicInput(String name, DType dtype, Object... dims) {
    claimValueName(name);
    long[] shape = new long[dims.length];
    Onnx.TensorShapeProto.Builder sp = Onnx.TensorShapeProto.newBuilder();
    for (int i = 0; i < dims.length; i++) {
      Object d = dims[i];
      if (d instanceof Number) {
        shape[i] = ((Number) d).longValue();
        Preconditions.checkArgument(shape[i] >= 0, "input %s: negative dim %s", name, shape[i]);
        sp.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(shape[i]));
      } else if (d instanceof String) {
        shape[i] = -1;
        sp.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam((String) d));
      } else {
        throw new IllegalArgumentException(
            "input " + name + ": dim " + i + " must be a number or a name, got " + d);
      }
    }
    inputs.add(valueInfo(name, dtype, sp.build()));
    values.add(name);
    inference.declare(name, dtype.onnxCode(), shape);
    return name;
  }

  /** An initializer holding {@code value}. */
  public String initializer(String name, Tensor value) {
    claimValueName(name);
    Onnx.TensorProto t = TensorProtos.of(name, value);
    initializers.add(t);
    values.add(name);
    inference.initializer(t);
    return name;
  }

  /** A float32 initializer of uniform random values in {@code [-scale, scale)}. */
  public String weight(String name, long[] shape, float scale) {
    float[] v = new float[Math.toIntExact(Tensor.elementCount(shape))];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
    }
    return initializer(name, Tensor.ofFloats(shape, v));
  }

  /** A float32 initializer of normal random values (mean 0, standard deviation {@code std}). */
  public String weightNormal(String name, long[] shape, float std) {
    float[] v = new float[Math.toIntExact(Tensor.elementCount(shape))];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (random.nextGaussian() * std);
    }
    return initializer(name, Tensor.ofFloats(shape, v));
  }

  /** A float32 initializer of uniform random values in {@code [lo, hi)}. */
  public String weightUniform(String name, long[] shape, float lo, float hi) {
    float[] v = new float[Math.toIntExact(Tensor.elementCount(shape))];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (lo + random.nextDouble() * (hi - lo));
    }
    return initializer(name, Tensor.ofFloats(shape, v));
  }

  /** A {@code Constant} node (in the current scope) whose output holds {@code value}. */
  public String constant(Tensor value) {
    return op("Constant").attr("value", value).add1();
  }

  /** A rank-0 initializer of the given float dtype (float32, float16, float64 or bfloat16). */
  public String scalar(DType dtype, float value) {
    Preconditions.checkArgument(
        dtype.isFloatingPoint(), "scalar needs a float dtype, got %s", dtype);
    return initializer(
        uniqueValueName(paramPrefix() + "const"),
        Tensor.fromFloats(dtype, new long[0], new float[] {value}));
  }

  /** A rank-0 initializer with the element type of {@code like}. */
  public String scalarLike(String like, float value) {
    return scalar(floatTypeOf(like), value);
  }

  /** A 1-D int64 initializer (shapes, axes, indices). */
  public String ints(long... values) {
    return initializer(
        uniqueValueName(paramPrefix() + "ints"),
        Tensor.ofLongs(new long[] {values.length}, values));
  }

  /** A 1-D float32 initializer. */
  public String floats(float... values) {
    return initializer(
        uniqueValueName(paramPrefix() + "floats"),
        Tensor.ofFloats(new long[] {values.length}, values));
  }

  // ---------------------------------------------------------------- generic nodes

  /** Fluent description of one node; {@link #add()} appends it. */
  public final class OpCall {
    private final String opType;
    private final List<String> in = new ArrayList<>();
    private final Map<String, Object> attrs = new LinkedHashMap<>();
    private int outputCount = 1;
    private DType[] outTypes;
    private String explicitName;
    private String explicitOutput;
    private String domain = "";

    private OpCall(String opType) {
      this.opType = opType;
    }

    /** Inputs in order; {@code ""} marks an omitted optional input. */
    public OpCall in(String... names) {
      in.addAll(Arrays.asList(names));
      return this;
    }

    public OpCall in(List<String> names) {
      in.addAll(names);
      return this;
    }

    public OpCall attr(String name, Object value) {
      attrs.put(name, value);
      return this;
    }

    public OpCall attrs(Map<String, ?> values) {
      attrs.putAll(values);
      return this;
    }

    public OpCall outputs(int count) {
      Preconditions.checkArgument(count >= 1, "a node needs at least one output");
      outputCount = count;
      return this;
    }

    /** Element types of the outputs, for ops whose type the builder cannot infer. */
    public OpCall outTypes(DType... dtypes) {
      outTypes = dtypes.clone();
      return this;
    }

    /** A node name to use instead of the scope-derived one (must be unique). */
    public OpCall name(String name) {
      explicitName = name;
      return this;
    }

    public OpCall domain(String d) {
      domain = d;
      return this;
    }

    /** Appends the node; returns its output names. */
    public List<String> add() {
      return addNode(this);
    }

    /** Appends a single-output node; returns its output name. */
    public String add1() {
      Preconditions.checkState(
          outputCount == 1, "%s has %s outputs; use add()", opType, outputCount);
      return addNode(this).get(0);
    }
  }

  /** Starts a node of any op type. */
  public OpCall op(String opType) {
    Preconditions.checkArgument(opType != null && !opType.isEmpty(), "empty op type");
    return new OpCall(opType);
  }

  /** A single-output node without attributes. */
  public String node(String opType, String... inputs) {
    return op(opType).in(inputs).add1();
  }

  /** A single-output node with attributes. */
  public String node(String opType, List<String> inputs, Map<String, ?> attrs) {
    return op(opType).in(inputs).attrs(attrs).add1();
  }

  /** A node with {@code outputCount} outputs. */
  public List<String> node(
      String opType, List<String> inputs, Map<String, ?> attrs, int outputCount) {
    return op(opType).in(inputs).attrs(attrs).outputs(outputCount).add();
  }

  private List<String> addNode(OpCall c) {
    for (String i : c.in) {
      Preconditions.checkArgument(
          i.isEmpty() || values.contains(i),
          "%s node: input '%s' is not a value of this graph",
          c.opType,
          i);
    }
    String name;
    if (c.explicitName != null) {
      name = c.explicitName;
      Preconditions.checkArgument(nodeNames.add(name), "node name %s already used", name);
    } else {
      name = uniqueNodeName(currentScope() + "/" + c.opType);
    }
    Onnx.NodeProto.Builder nb = Onnx.NodeProto.newBuilder().setName(name).setOpType(c.opType);
    if (!c.domain.isEmpty()) {
      nb.setDomain(c.domain);
    }
    nb.addAllInput(c.in);
    for (Map.Entry<String, Object> a : c.attrs.entrySet()) {
      nb.addAttribute(Attr.of(a.getKey(), a.getValue()));
    }
    List<String> outs = new ArrayList<>();
    for (int k = 0; k < c.outputCount; k++) {
      String out =
          c.explicitOutput != null && c.outputCount == 1
              ? c.explicitOutput
              : uniqueValueName(name + "_output_" + k);
      claimValueName(out);
      outs.add(out);
      if (c.outTypes != null && k < c.outTypes.length) {
        inference.declare(out, c.outTypes[k].onnxCode(), null);
      }
    }
    nb.addAllOutput(outs);
    Onnx.NodeProto node = nb.build();
    inference.node(node);
    for (int k = 0; k < outs.size(); k++) {
      if (DType.fromOnnxCode(inference.elementType(outs.get(k)).orElse(0)) == null) {
        throw new IllegalArgumentException(
            c.in.stream().allMatch(String::isEmpty)
                ? c.opType + " node without inputs: give its output type with outTypes()"
                : c.opType
                    + " node: the element type of output "
                    + k
                    + " is not inferable or has no core dtype; give it with outTypes()");
      }
    }
    values.addAll(outs);
    nodes.add(node);
    return ImmutableList.copyOf(outs);
  }

  // ---------------------------------------------------------------- plain ops

  public String matMul(String a, String b) {
    return node("MatMul", a, b);
  }

  /** Gemm {@code alpha*A'*B' + beta*C}; {@code c} may be null. */
  public String gemm(String a, String b, String c, boolean transA, boolean transB) {
    OpCall call = op("Gemm").in(a, b);
    if (c != null) {
      call.in(c);
    }
    if (transA) {
      call.attr("transA", 1);
    }
    if (transB) {
      call.attr("transB", 1);
    }
    return call.add1();
  }

  public String add(String a, String b) {
    return node("Add", a, b);
  }

  public String sub(String a, String b) {
    return node("Sub", a, b);
  }

  public String mul(String a, String b) {
    return node("Mul", a, b);
  }

  public String div(String a, String b) {
    return node("Div", a, b);
  }

  public String pow(String x, String exponent) {
    return node("Pow", x, exponent);
  }

  public String min(String a, String b) {
    return node("Min", a, b);
  }

  public String max(String a, String b) {
    return node("Max", a, b);
  }

  public String sqrt(String x) {
    return node("Sqrt", x);
  }

  public String reciprocal(String x) {
    return node("Reciprocal", x);
  }

  public String erf(String x) {
    return node("Erf", x);
  }

  public String tanh(String x) {
    return node("Tanh", x);
  }

  public String relu(String x) {
    return node("Relu", x);
  }

  public String sigmoid(String x) {
    return node("Sigmoid", x);
  }

  public String exp(String x) {
    return node("Exp", x);
  }

  public String identity(String x) {
    return node("Identity", x);
  }

  public String shape(String x) {
    return node("Shape", x);
  }

  /** ReduceMean over {@code axes}: attribute before opset 18, int64 input from 18. */
  public String reduceMean(String x, long[] axes, boolean keepDims) {
    return reduce("ReduceMean", 18, x, axes, keepDims);
  }

  /** ReduceSum over {@code axes}: attribute before opset 13, int64 input from 13. */
  public String reduceSum(String x, long[] axes, boolean keepDims) {
    return reduce("ReduceSum", 13, x, axes, keepDims);
  }

  private String reduce(
      String opType, int inputFormSince, String x, long[] axes, boolean keepDims) {
    OpCall c = op(opType).in(x).attr("keepdims", keepDims ? 1 : 0);
    if (opset >= inputFormSince) {
      c.in(ints(axes));
    } else {
      c.attr("axes", axes.clone());
    }
    return c.add1();
  }

  public String softmax(String x, int axis) {
    return op("Softmax").in(x).attr("axis", axis).add1();
  }

  public String transpose(String x, long... perm) {
    return op("Transpose").in(x).attr("perm", perm.clone()).add1();
  }

  /** Reshape to a constant shape (0 copies the input dim, -1 is inferred). */
  public String reshape(String x, long... shape) {
    return node("Reshape", x, ints(shape));
  }

  public String concat(int axis, String... parts) {
    return op("Concat").in(parts).attr("axis", axis).add1();
  }

  /** Slice with constant starts/ends/axes/steps ({@code steps} may be null). */
  public String slice(String x, long[] starts, long[] ends, long[] axes, long[] steps) {
    if (opset < 10) {
      Preconditions.checkArgument(steps == null, "Slice steps need opset >= 10");
      return op("Slice")
          .in(x)
          .attr("starts", starts.clone())
          .attr("ends", ends.clone())
          .attr("axes", axes.clone())
          .add1();
    }
    OpCall c = op("Slice").in(x, ints(starts), ints(ends), ints(axes));
    if (steps != null) {
      c.in(ints(steps));
    }
    return c.add1();
  }

  /** Split along {@code axis} into parts of the given sizes. */
  public List<String> split(String x, int axis, long... sizes) {
    OpCall c = op("Split").in(x).attr("axis", axis).outputs(sizes.length);
    if (opset >= 13) {
      c.in(ints(sizes));
    } else {
      c.attr("split", sizes.clone());
    }
    return c.add();
  }

  public String gather(String data, String indices, int axis) {
    return op("Gather").in(data, indices).attr("axis", axis).add1();
  }

  /** Unsqueeze: axes attribute before opset 13, input from 13. */
  public String unsqueeze(String x, long... axes) {
    return axesOp("Unsqueeze", x, axes);
  }

  /** Squeeze: axes attribute before opset 13, input from 13. */
  public String squeeze(String x, long... axes) {
    return axesOp("Squeeze", x, axes);
  }

  private String axesOp(String opType, String x, long[] axes) {
    if (opset >= 13) {
      return node(opType, x, ints(axes));
    }
    return op(opType).in(x).attr("axes", axes.clone()).add1();
  }

  public String cast(String x, DType to) {
    return op("Cast").in(x).attr("to", to.onnxCode()).add1();
  }

  /** Conv with square kernel taken from {@code w}; {@code bias} may be null. */
  public String conv(String x, String w, String bias, int stride, int pad, int group) {
    OpCall c = op("Conv").in(x, w);
    if (bias != null) {
      c.in(bias);
    }
    return c.attr("strides", new long[] {stride, stride})
        .attr("pads", new long[] {pad, pad, pad, pad})
        .attr("group", group)
        .add1();
  }

  public String batchNormalization(
      String x, String scale, String bias, String mean, String var, float eps) {
    return op("BatchNormalization").in(x, scale, bias, mean, var).attr("epsilon", eps).add1();
  }

  public String maxPool(String x, int kernel, int stride, int pad) {
    return op("MaxPool")
        .in(x)
        .attr("kernel_shape", new long[] {kernel, kernel})
        .attr("strides", new long[] {stride, stride})
        .attr("pads", new long[] {pad, pad, pad, pad})
        .add1();
  }

  /** Pad with mode constant/reflect/edge; pads as in ONNX (all begins, then all ends). */
  public String pad(String x, String mode, long... pads) {
    if (opset >= 11) {
      return op("Pad").in(x, ints(pads)).attr("mode", mode).add1();
    }
    return op("Pad").in(x).attr("pads", pads.clone()).attr("mode", mode).add1();
  }

  /** Resize by float scales (one per dim), mode nearest/linear. */
  public String resize(String x, String mode, float... scales) {
    if (opset >= 11) {
      String roi = opset >= 13 ? "" : floats();
      return op("Resize").in(x, roi, floats(scales)).attr("mode", mode).add1();
    }
    return op("Resize").in(x, floats(scales)).attr("mode", mode).add1();
  }

  public String depthToSpace(String x, int blockSize) {
    return op("DepthToSpace").in(x).attr("blocksize", blockSize).add1();
  }

  public String where(String cond, String a, String b) {
    return node("Where", cond, a, b);
  }

  public String equal(String a, String b) {
    return node("Equal", a, b);
  }

  /**
   * ConstantOfShape of float32 {@code value} with the shape held by the int64 tensor {@code shape}.
   */
  public String constantOfShape(String shape, float value) {
    return op("ConstantOfShape")
        .in(shape)
        .attr("value", Tensor.ofFloats(new long[] {1}, value))
        .add1();
  }

  // ---------------------------------------------------------------- composites

  /**
   * LayerNorm over the last axis the way opset-13 exports write it: ReduceMean, Sub, Pow(2),
   * ReduceMean, Add(eps), Sqrt, Div, Mul(gamma), Add(beta).
   */
  public String layerNormDecomposed(String x, String gamma, String beta, float eps) {
    String mean = reduceMean(x, new long[] {-1}, true);
    String d = sub(x, mean);
    String sq = pow(d, scalarLike(x, 2f));
    String var = reduceMean(sq, new long[] {-1}, true);
    String std = sqrt(add(var, scalarLike(x, eps)));
    String norm = div(d, std);
    return add(mul(norm, gamma), beta);
  }

  /** LayerNormalization (opset >= 17) over the last axis. */
  public String layerNormFused(String x, String gamma, String beta, float eps) {
    Preconditions.checkState(
        opset >= 17, "LayerNormalization needs opset >= 17, builder has %s", opset);
    return op("LayerNormalization").in(x, gamma, beta).attr("axis", -1).attr("epsilon", eps).add1();
  }

  /** LayerNorm with fresh gamma (ones) and beta (zeros) of size {@code dim}. */
  public String layerNorm(String x, int dim, float eps, boolean fused) {
    float[] ones = new float[dim];
    Arrays.fill(ones, 1f);
    String gamma =
        initializer(
            uniqueValueName(paramPrefix() + "weight"), Tensor.ofFloats(new long[] {dim}, ones));
    String beta =
        initializer(
            uniqueValueName(paramPrefix() + "bias"),
            Tensor.ofFloats(new long[] {dim}, new float[dim]));
    return fused ? layerNormFused(x, gamma, beta, eps) : layerNormDecomposed(x, gamma, beta, eps);
  }

  /** Exact GELU as exported: {@code x * 0.5 * (1 + erf(x / sqrt(2)))} (Div, Erf, Add, Mul, Mul). */
  public String geluErf(String x) {
    String e = erf(div(x, scalarLike(x, (float) Math.sqrt(2.0))));
    String onePlus = add(e, scalarLike(x, 1f));
    return mul(mul(x, onePlus), scalarLike(x, 0.5f));
  }

  /** Tanh GELU: {@code 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))}. */
  public String geluTanh(String x) {
    String cube = pow(x, scalarLike(x, 3f));
    String inner = add(x, mul(cube, scalarLike(x, 0.044715f)));
    String t = tanh(mul(inner, scalarLike(x, (float) Math.sqrt(2.0 / Math.PI))));
    return mul(mul(x, add(t, scalarLike(x, 1f))), scalarLike(x, 0.5f));
  }

  /**
   * {@code x @ W + b} with W [in, out] (uniform in +-1/sqrt(in)) and b [out] (same range), as
   * MatMul and Add; parameters are named after the scope ({@code blocks.0.attn.q.weight}).
   */
  public String linear(String x, int in, int out) {
    float bound = (float) (1.0 / Math.sqrt(in));
    String w = weight(uniqueValueName(paramPrefix() + "weight"), new long[] {in, out}, bound);
    String b = weight(uniqueValueName(paramPrefix() + "bias"), new long[] {out}, bound);
    return add(matMul(x, w), b);
  }

  /**
   * Multi-head self-attention over x [batch, seq, dModel]: Q/K/V projections (scopes q, k, v),
   * heads split by Reshape+Transpose, scores = Q K^T / sqrt(dHead) (+ {@code additiveMask} if not
   * null, broadcast to [batch, heads, seq, seq]), Softmax, times V, heads merged, output projection
   * (scope o).
   */
  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  public String attention(String x, int dModel, int heads, String additiveMask) {
    Preconditions.checkArgument(
        dModel % heads == 0, "dModel %s not divisible by heads %s", dModel, heads);
    int dHead = dModel / heads;
    String q = projection(x, "q", dModel);
    String k = projection(x, "k", dModel);
    String v = projection(x, "v", dModel);
    String qh = transpose(reshape(q, 0, 0, heads, dHead), 0, 2, 1, 3);
    String kt = transpose(reshape(k, 0, 0, heads, dHead), 0, 2, 3, 1);
    String vh = transpose(reshape(v, 0, 0, heads, dHead), 0, 2, 1, 3);
    String scores = div(matMul(qh, kt), scalarLike(x, (float) Math.sqrt(dHead)));
    if (additiveMask != null) {
      scores = add(scores, additiveMask);
    }
    String probs = softmax(scores, -1);
    String ctx = transpose(matMul(probs, vh), 0, 2, 1, 3);
    String merged = reshape(ctx, 0, 0, dModel);
    try (Scope s = scope("o")) {
      return linear(merged, dModel, dModel);
    }
  }

  @SuppressWarnings("try") // the scope idiom: a scope names the nodes built inside it
  private String projection(String x, String name, int dModel) {
    try (Scope s = scope(name)) {
      return linear(x, dModel, dModel);
    }
  }

  /**
   * Conv (kernel k, stride, padding, with bias) + BatchNormalization (eps 1e-5, running variance in
   * [0.5, 1.5)) + Relu.
   */
  public String convBnRelu(String x, int inCh, int outCh, int kernel, int stride, int pad) {
    float bound = (float) (1.0 / Math.sqrt((double) inCh * kernel * kernel));
    String w =
        weight(
            uniqueValueName(paramPrefix() + "conv.weight"),
            new long[] {outCh, inCh, kernel, kernel},
            bound);
    String b = weight(uniqueValueName(paramPrefix() + "conv.bias"), new long[] {outCh}, bound);
    String y = conv(x, w, b, stride, pad, 1);
    long[] c = {outCh};
    String scale = weightUniform(uniqueValueName(paramPrefix() + "bn.weight"), c, 0.5f, 1.5f);
    String bias = weight(uniqueValueName(paramPrefix() + "bn.bias"), c, 0.1f);
    String mean = weight(uniqueValueName(paramPrefix() + "bn.running_mean"), c, 0.1f);
    String var = weightUniform(uniqueValueName(paramPrefix() + "bn.running_var"), c, 0.5f, 1.5f);
    return relu(batchNormalization(y, scale, bias, mean, var, 1e-5f));
  }

  // ---------------------------------------------------------------- outputs and build

  /**
   * Declares {@code tensor} a graph output, typed with its tracked element type (and shape if
   * known).
   */
  public GraphBuilder output(String tensor) {
    typeOf(tensor);
    Preconditions.checkArgument(outputNames.add(tensor), "%s is already a graph output", tensor);
    outputs.add(inference.valueInfo(tensor));
    return this;
  }

  /**
   * Declares {@code tensor} a graph output called {@code publicName} (through an Identity node).
   */
  public GraphBuilder output(String tensor, String publicName) {
    OpCall id = op("Identity").in(tensor);
    id.explicitOutput = publicName;
    id.add1();
    return output(publicName);
  }

  /** Element type the builder inferred (or was given) for {@code tensor}. */
  public DType typeOf(String tensor) {
    Preconditions.checkArgument(
        values.contains(tensor), "'%s' is not a value of graph %s", tensor, graphName);
    return DType.fromOnnxCode(inference.elementType(tensor).orElse(0));
  }

  /**
   * Tracked shape of {@code tensor} (-1 for unknown dims), or null when the builder does not know
   * it.
   */
  public long[] shapeOf(String tensor) {
    return inference.shape(tensor).orElse(null);
  }

  /** The model, named after the graph, with no folder (all data inline). */
  public OnnxModel build() {
    return OnnxModel.of(buildProto(), null, graphName);
  }

  /** The model as a protobuf: ir_version, default-domain opset import, graph with named nodes. */
  public Onnx.ModelProto buildProto() {
    Preconditions.checkState(
        !outputs.isEmpty(), "graph %s has no outputs: call output(...)", graphName);
    Onnx.GraphProto graph =
        Onnx.GraphProto.newBuilder()
            .setName(graphName)
            .addAllNode(nodes)
            .addAllInitializer(initializers)
            .addAllInput(inputs)
            .addAllOutput(outputs)
            .build();
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(irVersion)
        .setProducerName("halfbisect-graphbuilder")
        .setProducerVersion("1")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(graph)
        .build();
  }

  // ---------------------------------------------------------------- naming helpers

  private DType floatTypeOf(String like) {
    DType t = typeOf(like);
    Preconditions.checkArgument(
        t.isFloatingPoint(), "'%s' is %s, expected a float tensor", like, t.cliName());
    return t;
  }

  private static Onnx.ValueInfoProto valueInfo(
      String name, DType dtype, Onnx.TensorShapeProto shape) {
    Onnx.TypeProto.Tensor.Builder tt =
        Onnx.TypeProto.Tensor.newBuilder().setElemType(dtype.onnxCode());
    if (shape != null) {
      tt.setShape(shape);
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(Onnx.TypeProto.newBuilder().setTensorType(tt))
        .build();
  }

  /**
   * Scope as a dotted parameter prefix: {@code /blocks/blocks.5/attn} -> {@code
   * blocks.blocks.5.attn.}.
   */
  private String paramPrefix() {
    String s = currentScope();
    if (s.isEmpty()) {
      return "";
    }
    return s.substring(1).replace('/', '.') + ".";
  }

  private String uniqueNodeName(String base) {
    String name = base;
    int k = nameCounters.getOrDefault(base, 0);
    while (nodeNames.contains(name)) {
      k++;
      name = base + "_" + k;
    }
    nameCounters.put(base, k);
    nodeNames.add(name);
    return name;
  }

  private String uniqueValueName(String base) {
    if (!values.contains(base)) {
      return base;
    }
    int k = 1;
    while (values.contains(base + "_" + k)) {
      k++;
    }
    return base + "_" + k;
  }

  private void claimValueName(String name) {
    Preconditions.checkArgument(name != null && !name.isEmpty(), "empty value name");
    Preconditions.checkArgument(
        !values.contains(name), "value name %s already used in graph %s", name, graphName);
  }
}
