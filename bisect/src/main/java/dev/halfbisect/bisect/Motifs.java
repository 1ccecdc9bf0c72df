package dev.halfbisect.bisect;

import com.google.common.collect.ImmutableList;
import dev.halfbisect.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the subgraph patterns FP16 trouble clusters in: LayerNorm (decomposed
 * ReduceMean-Sub-Pow-ReduceMean-Add-Sqrt-Div, with its affine Mul/Add, or fused
 * LayerNormalization), GELU (Erf form and Tanh form, or fused Gelu), attention Softmax (with the
 * scale/mask ops between the QK MatMul and it), Conv-BN-ReLU, residual Add and MatMul/Gemm (with a
 * bias Add). Each node belongs to at most one motif: the first found, in that order.
 */
public final class Motifs {
  private Motifs() {}

  /** Kinds of motif. */
  public enum Kind {
    LAYER_NORM,
    GELU,
    ATTENTION_SOFTMAX,
    CONV_BN_RELU,
    RESIDUAL_ADD,
    MATMUL
  }

  /**
   * One detected motif.
   *
   * @param kind the pattern
   * @param anchor the node that identifies it (the Div of a LayerNorm, the Erf/Tanh of a GELU, ...)
   * @param nodes its nodes in topological order
   */
  public record Motif(Kind kind, String anchor, ImmutableList<String> nodes) {
    /** {@code GELU@b3/gelu/erf}. */
    public String id() {
      return kind + "@" + anchor;
    }
  }

  /** All motifs of the model, in topological order of their anchors within each kind's pass. */
  public static ImmutableList<Motif> detect(ModelGraph g) {
    List<Motif> found = new ArrayList<>();
    Set<String> taken = new HashSet<>();
    for (Onnx.NodeProto n : g.nodes()) {
      layerNorm(g, n).ifPresent(m -> add(found, taken, m));
    }
    for (Onnx.NodeProto n : g.nodes()) {
      gelu(g, n).ifPresent(m -> add(found, taken, m));
    }
    for (Onnx.NodeProto n : g.nodes()) {
      softmax(g, n).ifPresent(m -> add(found, taken, m));
    }
    for (Onnx.NodeProto n : g.nodes()) {
      convBnRelu(g, n).ifPresent(m -> add(found, taken, m));
    }
    for (Onnx.NodeProto n : g.nodes()) {
      residual(g, n).ifPresent(m -> add(found, taken, m));
    }
    for (Onnx.NodeProto n : g.nodes()) {
      matmul(g, n).ifPresent(m -> add(found, taken, m));
    }
    return ImmutableList.copyOf(found);
  }

  private static void add(List<Motif> found, Set<String> taken, Motif m) {
    if (m.nodes().stream().noneMatch(taken::contains)) {
      found.add(m);
      taken.addAll(m.nodes());
    }
  }

  private static Motif motif(ModelGraph g, Kind kind, String anchor, Set<Onnx.NodeProto> nodes) {
    ImmutableList<String> sorted =
        nodes.stream()
            .map(Onnx.NodeProto::getName)
            .sorted(java.util.Comparator.comparingInt(g::topoPosition))
            .collect(ImmutableList.toImmutableList());
    return new Motif(kind, anchor, sorted);
  }

  private static Optional<Onnx.NodeProto> only(ModelGraph g, Onnx.NodeProto n, String op) {
    List<Onnx.NodeProto> c = g.consumers(n.getOutput(0));
    return c.size() == 1 && c.get(0).getOpType().equals(op)
        ? Optional.of(c.get(0))
        : Optional.empty();
  }

  private static Optional<Onnx.NodeProto> consumer(ModelGraph g, Onnx.NodeProto n, String op) {
    return g.consumers(n.getOutput(0)).stream().filter(c -> c.getOpType().equals(op)).findFirst();
  }

  private static boolean constInput(ModelGraph g, Onnx.NodeProto n) {
    return n.getInputList().stream()
        .anyMatch(
            i ->
                g.isInitializer(i)
                    || g.producer(i).map(p -> p.getOpType().equals("Constant")).orElse(false));
  }

  static Optional<Motif> layerNorm(ModelGraph g, Onnx.NodeProto r1) {
    if (r1.getOpType().equals("LayerNormalization")) {
      return Optional.of(motif(g, Kind.LAYER_NORM, r1.getName(), Set.of(r1)));
    }
    if (!r1.getOpType().equals("ReduceMean")) {
      return Optional.empty();
    }
    String x = r1.getInput(0);
    for (Onnx.NodeProto sub : g.consumers(r1.getOutput(0))) {
      if (!sub.getOpType().equals("Sub") || !sub.getInput(0).equals(x)) {
        continue;
      }
      Onnx.NodeProto pow = null;
      Onnx.NodeProto div = null;
      for (Onnx.NodeProto c : g.consumers(sub.getOutput(0))) {
        if (c.getOpType().equals("Pow")
            || (c.getOpType().equals("Mul") && c.getInput(0).equals(c.getInput(1)))) {
          pow = c;
        } else if (c.getOpType().equals("Div")) {
          div = c;
        }
      }
      if (pow == null || div == null) {
        continue;
      }
      Optional<Onnx.NodeProto> r2 = only(g, pow, "ReduceMean");
      Optional<Onnx.NodeProto> eps = r2.flatMap(r -> only(g, r, "Add"));
      Optional<Onnx.NodeProto> sqrt = eps.flatMap(e -> only(g, e, "Sqrt"));
      if (sqrt.isEmpty() || !div.getInput(1).equals(sqrt.get().getOutput(0))) {
        continue;
      }
      Set<Onnx.NodeProto> nodes =
          new LinkedHashSet<>(List.of(r1, sub, pow, r2.get(), eps.get(), sqrt.get(), div));
      Optional<Onnx.NodeProto> scale = only(g, div, "Mul").filter(m -> constInput(g, m));
      scale.ifPresent(nodes::add);
      scale.flatMap(m -> only(g, m, "Add")).filter(a -> constInput(g, a)).ifPresent(nodes::add);
      return Optional.of(motif(g, Kind.LAYER_NORM, div.getName(), nodes));
    }
    return Optional.empty();
  }

  static Optional<Motif> gelu(ModelGraph g, Onnx.NodeProto n) {
    if (n.getOpType().equals("Gelu")
        || n.getOpType().equals("FastGelu")
        || n.getOpType().equals("BiasGelu")) {
      return Optional.of(motif(g, Kind.GELU, n.getName(), Set.of(n)));
    }
    if (n.getOpType().equals("Erf")) {
      Optional<Onnx.NodeProto> scale =
          g.producer(n.getInput(0))
              .filter(p -> p.getOpType().equals("Div") || p.getOpType().equals("Mul"));
      Optional<Onnx.NodeProto> add = only(g, n, "Add");
      if (scale.isEmpty() || add.isEmpty()) {
        return Optional.empty();
      }
      String x = scale.get().getInput(0);
      Optional<Onnx.NodeProto> mul = only(g, add.get(), "Mul");
      if (mul.isEmpty()) {
        return Optional.empty();
      }
      Set<Onnx.NodeProto> nodes =
          new LinkedHashSet<>(List.of(scale.get(), n, add.get(), mul.get()));
      String other =
          mul.get().getInput(0).equals(add.get().getOutput(0))
              ? mul.get().getInput(1)
              : mul.get().getInput(0);
      if (other.equals(x)) {
        only(g, mul.get(), "Mul")
            .filter(h -> constInput(g, h))
            .ifPresent(nodes::add); // (x * (1 + erf)) * 0.5
      } else {
        Optional<Onnx.NodeProto> half =
            g.producer(other)
                .filter(h -> h.getOpType().equals("Mul") && h.getInputList().contains(x));
        if (half.isEmpty()) {
          return Optional.empty();
        }
        nodes.add(half.get()); // (x * 0.5) * (1 + erf)
      }
      return Optional.of(motif(g, Kind.GELU, n.getName(), nodes));
    }
    if (n.getOpType().equals("Tanh")) {
      // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))): Add(1) and Mul(x) after the Tanh
      // name x; the Mul/Add/Pow nodes between x and the Tanh are the inner polynomial.
      Optional<Onnx.NodeProto> add = only(g, n, "Add");
      Optional<Onnx.NodeProto> mul = add.flatMap(a -> only(g, a, "Mul"));
      if (mul.isEmpty()) {
        return Optional.empty();
      }
      String other =
          mul.get().getInput(0).equals(add.get().getOutput(0))
              ? mul.get().getInput(1)
              : mul.get().getInput(0);
      Set<String> xs = new HashSet<>(Set.of(other));
      g.producer(other)
          .filter(h -> h.getOpType().equals("Mul") && constInput(g, h))
          .ifPresent(h -> xs.addAll(h.getInputList())); // (x * 0.5) * (1 + tanh)
      Set<Onnx.NodeProto> up = new LinkedHashSet<>();
      List<Onnx.NodeProto> frontier = new ArrayList<>(List.of(n));
      for (int depth = 0; depth < 5 && !frontier.isEmpty(); depth++) {
        List<Onnx.NodeProto> next = new ArrayList<>();
        for (Onnx.NodeProto f : frontier) {
          for (String in : f.getInputList()) {
            if (xs.contains(in)) {
              continue; // stop at x
            }
            g.producer(in)
                .filter(p -> Set.of("Mul", "Add", "Pow").contains(p.getOpType()))
                .ifPresent(
                    p -> {
                      if (up.add(p)) {
                        next.add(p);
                      }
                    });
          }
        }
        frontier = next;
      }
      boolean readsX = up.stream().anyMatch(p -> p.getInputList().stream().anyMatch(xs::contains));
      boolean cubic =
          up.stream()
              .anyMatch(
                  p ->
                      p.getOpType().equals("Pow")
                          || (p.getOpType().equals("Mul") && !constInput(g, p)));
      if (!cubic || !readsX) {
        return Optional.empty();
      }
      if (xs.size() > 1) {
        g.producer(other).ifPresent(up::add); // the x * 0.5 node
      }
      Set<Onnx.NodeProto> nodes = new LinkedHashSet<>(up);
      nodes.add(n);
      nodes.add(add.get());
      nodes.add(mul.get());
      only(g, mul.get(), "Mul").filter(h -> constInput(g, h)).ifPresent(nodes::add);
      return Optional.of(motif(g, Kind.GELU, n.getName(), nodes));
    }
    return Optional.empty();
  }

  static Optional<Motif> softmax(ModelGraph g, Onnx.NodeProto n) {
    if (!n.getOpType().equals("Softmax")) {
      return Optional.empty();
    }
    Set<Onnx.NodeProto> nodes = new LinkedHashSet<>();
    nodes.add(n);
    Optional<Onnx.NodeProto> p = g.producer(n.getInput(0));
    boolean fromMatMul = false;
    for (int depth = 0; depth < 4 && p.isPresent(); depth++) {
      String op = p.get().getOpType();
      if (op.equals("MatMul")) {
        fromMatMul = true;
        break;
      }
      if (!Set.of("Add", "Div", "Mul", "Where", "Sub").contains(op)) {
        break;
      }
      nodes.add(p.get());
      p = g.producer(p.get().getInput(0));
    }
    boolean toMatMul =
        consumer(g, n, "MatMul").isPresent()
            || only(g, n, "Cast").flatMap(c -> consumer(g, c, "MatMul")).isPresent();
    if (!fromMatMul || !toMatMul) {
      return Optional.empty();
    }
    return Optional.of(motif(g, Kind.ATTENTION_SOFTMAX, n.getName(), nodes));
  }

  static Optional<Motif> convBnRelu(ModelGraph g, Onnx.NodeProto n) {
    if (!n.getOpType().equals("Conv")) {
      return Optional.empty();
    }
    Set<Onnx.NodeProto> nodes = new LinkedHashSet<>(List.of(n));
    Onnx.NodeProto last = n;
    Optional<Onnx.NodeProto> bn = only(g, n, "BatchNormalization");
    if (bn.isPresent()) {
      nodes.add(bn.get());
      last = bn.get();
    }
    Onnx.NodeProto l = last;
    Optional<Onnx.NodeProto> act =
        g.consumers(l.getOutput(0)).size() == 1
            ? Optional.of(g.consumers(l.getOutput(0)).get(0))
                .filter(c -> Set.of("Relu", "Clip", "LeakyRelu").contains(c.getOpType()))
            : Optional.empty();
    act.ifPresent(nodes::add);
    if (nodes.size() == 1) {
      return Optional.empty();
    }
    return Optional.of(motif(g, Kind.CONV_BN_RELU, n.getName(), nodes));
  }

  static Optional<Motif> residual(ModelGraph g, Onnx.NodeProto n) {
    if (!n.getOpType().equals("Add") || n.getInputCount() != 2) {
      return Optional.empty();
    }
    String a = n.getInput(0);
    String b = n.getInput(1);
    if (g.isInitializer(a) || g.isInitializer(b)) {
      return Optional.empty();
    }
    // A skip connection: one input is an ancestor of the other one's producer.
    int pa = g.producer(a).map(p -> g.topoPosition(p.getName())).orElse(-1);
    int pb = g.producer(b).map(p -> g.topoPosition(p.getName())).orElse(-1);
    String early = pa <= pb ? a : b;
    String late = pa <= pb ? b : a;
    if (g.producer(late).isEmpty()) {
      return Optional.empty();
    }
    boolean skip =
        g.producer(early).isEmpty()
            ? dependsOnInput(g, late, early)
            : g.ancestorPositions(late).contains(Math.min(pa, pb));
    return skip
        ? Optional.of(motif(g, Kind.RESIDUAL_ADD, n.getName(), Set.of(n)))
        : Optional.empty();
  }

  private static boolean dependsOnInput(ModelGraph g, String tensor, String input) {
    for (int p : g.ancestorPositions(tensor)) {
      if (g.nodes().get(p).getInputList().contains(input)) {
        return true;
      }
    }
    return false;
  }

  static Optional<Motif> matmul(ModelGraph g, Onnx.NodeProto n) {
    if (!n.getOpType().equals("MatMul") && !n.getOpType().equals("Gemm")) {
      return Optional.empty();
    }
    Set<Onnx.NodeProto> nodes = new LinkedHashSet<>(List.of(n));
    if (n.getOpType().equals("MatMul")) {
      only(g, n, "Add").filter(a -> constInput(g, a)).ifPresent(nodes::add);
    }
    return Optional.of(motif(g, Kind.MATMUL, n.getName(), nodes));
  }
}
