package dev.halfbisect.report.blocks;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import dev.halfbisect.report.model.TensorRow;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Blocks x checkpoints table of normalized errors (the table of the TimeSformer investigation): one
 * row per block in order of first appearance, one {@link Column} per checkpoint.
 *
 * <p>Heuristic, per block, over its tensors in topological order:
 *
 * <ol>
 *   <li>Consecutive tensors whose node names share the same scope (the name without its last '/'
 *       segment, e.g. {@code /blocks/blocks.5/norm2}) form a <em>group</em>; a group's checkpoint
 *       tensor is its last one (a bias Add after MatMul, the final Add of a decomposed LayerNorm).
 *   <li>A group is a <b>norm</b> when it holds a LayerNormalization-like op, has motif LayerNorm,
 *       holds ReduceMean with Sqrt or Pow, or its scope ends in a *norm* / {@code ln} segment; a
 *       <b>softmax</b> when it holds Softmax; an <b>activation</b> when it holds Gelu/Erf/Relu/
 *       Sigmoid/Tanh-GELU ops, has motif GELU, or its scope ends in *gelu* / *act*; a <b>linear</b>
 *       when it holds MatMul/Gemm/Conv. Kinds are tried in this order.
 *   <li>GELU = first activation group after the last softmax group; FC1 = last linear group before
 *       it; FC2 = first linear group after it; LayerNorm = last norm group before FC1; attention =
 *       the tensor right before that LayerNorm (the residual sum), or the last softmax when there
 *       is no such norm; block output = the block's last tensor.
 * </ol>
 *
 * Without an activation, FC1/FC2 are the first two linear groups after the last softmax.
 */
public final class BlockTable {
  private static final Set<String> NORM_OPS =
      Set.of(
          "LayerNormalization",
          "SimplifiedLayerNormalization",
          "SkipLayerNormalization",
          "SkipSimplifiedLayerNormalization",
          "RMSNormalization",
          "GroupNormalization",
          "InstanceNormalization",
          "BatchNormalization");

  /** GELU as one op (fused forms) or its Erf / Tanh core (decomposed exports). */
  private static final Set<String> GELU_OPS =
      Set.of("Gelu", "FastGelu", "BiasGelu", "QuickGelu", "Erf", "Tanh");

  /** The other pointwise activations of an MLP. */
  private static final Set<String> OTHER_ACT_OPS =
      Set.of("Relu", "Sigmoid", "HardSigmoid", "Elu", "LeakyRelu", "Mish", "HardSwish", "Swish");

  private static final Set<String> LINEAR_OPS =
      Set.of("MatMul", "Gemm", "Conv", "FusedMatMul", "MatMulInteger", "ConvTranspose");
  private static final Pattern NORM_SCOPE =
      Pattern.compile("(?i).*norm.*|(?:.*_)?ln(?:_?\\d+)?(?:_.*)?");
  private static final Pattern ACT_SCOPE = Pattern.compile("(?i).*(gelu|act|activation).*");

  /** The columns: the tensors of a transformer block an engineer looks at (its checkpoints). */
  public enum Column {
    /**
     * Attention sub-layer output (residual sum feeding the LayerNorm before the MLP), or the
     * Softmax.
     */
    ATTENTION("attention"),
    /** The LayerNorm feeding FC1. */
    LAYERNORM("LayerNorm"),
    /** First MLP linear layer (with its bias). */
    FC1("FC1"),
    /** MLP activation (GELU, also ReLU/SiLU). */
    GELU("GELU"),
    /** Second MLP linear layer. */
    FC2("FC2"),
    /** Last tensor of the block. */
    OUTPUT("block output");

    private final String title;

    Column(String title) {
      this.title = title;
    }

    /** Column title. */
    public String title() {
      return title;
    }
  }

  /** One cell: the column's tensor in a block and its error. */
  public record Cell(String tensor, String node, double error, boolean pass) {}

  private enum Kind {
    NORM,
    SOFTMAX,
    ACT,
    LINEAR,
    OTHER
  }

  private record Group(String scope, List<TensorRow> rows, int start, int end, Kind kind) {
    TensorRow last() {
      return rows.get(rows.size() - 1);
    }
  }

  private final ImmutableList<String> blocks;
  private final ImmutableMap<String, ImmutableMap<Column, Cell>> cells;

  private BlockTable(List<String> blocks, Map<String, ImmutableMap<Column, Cell>> cells) {
    this.blocks = ImmutableList.copyOf(blocks);
    this.cells = ImmutableMap.copyOf(cells);
  }

  /** Builds the table from layerwise rows (topological order); rows without a block are skipped. */
  public static BlockTable of(List<TensorRow> rows) {
    Map<String, List<TensorRow>> byBlock = new LinkedHashMap<>();
    for (TensorRow r : rows) {
      blockOf(r).ifPresent(b -> byBlock.computeIfAbsent(b, k -> new ArrayList<>()).add(r));
    }
    Map<String, ImmutableMap<Column, Cell>> cells = new LinkedHashMap<>();
    byBlock.forEach((b, rs) -> cells.put(b, classify(rs)));
    return new BlockTable(new ArrayList<>(byBlock.keySet()), cells);
  }

  /**
   * Block label of a row: its own {@code block} field, else detected from node then tensor name.
   */
  public static Optional<String> blockOf(TensorRow r) {
    if (r.block() != null) {
      return Optional.of(r.block());
    }
    return BlockDetector.detect(r.node())
        .or(() -> BlockDetector.detect(r.name()))
        .map(BlockId::label);
  }

  public List<String> blocks() {
    return blocks;
  }

  public boolean isEmpty() {
    return blocks.isEmpty();
  }

  public Optional<Cell> cell(String block, Column c) {
    ImmutableMap<Column, Cell> row = cells.get(block);
    return row == null ? Optional.empty() : Optional.ofNullable(row.get(c));
  }

  /** Largest finite error of all cells (for colour scales); 0 when empty. */
  public double maxError() {
    double m = 0;
    for (ImmutableMap<Column, Cell> row : cells.values()) {
      for (Cell c : row.values()) {
        if (Double.isFinite(c.error())) {
          m = Math.max(m, c.error());
        }
      }
    }
    return m;
  }

  private static ImmutableMap<Column, Cell> classify(List<TensorRow> rows) {
    List<Group> groups = groups(rows);
    Map<Column, TensorRow> picked = new EnumMap<>(Column.class);
    int lastSoftmax = -1;
    for (int i = 0; i < groups.size(); i++) {
      if (groups.get(i).kind() == Kind.SOFTMAX) {
        lastSoftmax = i;
      }
    }
    int act = indexOf(groups, Kind.ACT, lastSoftmax + 1, groups.size(), true);
    int fc1;
    int fc2;
    if (act >= 0) {
      fc1 = indexOf(groups, Kind.LINEAR, lastSoftmax + 1, act, false);
      fc2 = indexOf(groups, Kind.LINEAR, act + 1, groups.size(), true);
      picked.put(Column.GELU, groups.get(act).last());
    } else {
      fc1 = indexOf(groups, Kind.LINEAR, lastSoftmax + 1, groups.size(), true);
      fc2 = fc1 < 0 ? -1 : indexOf(groups, Kind.LINEAR, fc1 + 1, groups.size(), true);
    }
    if (fc1 >= 0) {
      picked.put(Column.FC1, groups.get(fc1).last());
    }
    if (fc2 >= 0) {
      picked.put(Column.FC2, groups.get(fc2).last());
    }
    int ln = indexOf(groups, Kind.NORM, 0, fc1 >= 0 ? fc1 : groups.size(), false);
    if (ln >= 0) {
      picked.put(Column.LAYERNORM, groups.get(ln).last());
      int before = groups.get(ln).start() - 1;
      if (before >= 0 && groups.get(ln - 1).kind() != Kind.NORM) {
        picked.put(Column.ATTENTION, rows.get(before));
      }
    }
    if (!picked.containsKey(Column.ATTENTION) && lastSoftmax >= 0) {
      picked.put(Column.ATTENTION, groups.get(lastSoftmax).last());
    }
    picked.put(Column.OUTPUT, rows.get(rows.size() - 1));
    ImmutableMap.Builder<Column, Cell> out = ImmutableMap.builder();
    picked.forEach(
        (c, r) -> out.put(c, new Cell(r.name(), r.node(), r.normalizedError(), r.passed())));
    return out.build();
  }

  /** First (or last) group of a kind with index in [from, to). */
  private static int indexOf(List<Group> groups, Kind kind, int from, int to, boolean first) {
    int found = -1;
    for (int i = Math.max(0, from); i < Math.min(to, groups.size()); i++) {
      if (groups.get(i).kind() == kind) {
        if (first) {
          return i;
        }
        found = i;
      }
    }
    return found;
  }

  private static List<Group> groups(List<TensorRow> rows) {
    List<Group> groups = new ArrayList<>();
    int start = 0;
    for (int i = 1; i <= rows.size(); i++) {
      if (i == rows.size() || !scope(rows.get(i).node()).equals(scope(rows.get(start).node()))) {
        List<TensorRow> g = rows.subList(start, i);
        String scope = scope(rows.get(start).node());
        groups.add(new Group(scope, g, start, i, kind(scope, g)));
        start = i;
      }
    }
    return groups;
  }

  /** The node name without its last '/' segment; names without '/' are their own scope. */
  public static String scope(String node) {
    int slash = node.lastIndexOf('/');
    return slash <= 0 ? node : node.substring(0, slash);
  }

  private static Kind kind(String scope, List<TensorRow> rows) {
    String last = scope.substring(scope.lastIndexOf('/') + 1);
    boolean reduceMean = false;
    boolean sqrtOrPow = false;
    boolean softmax = false;
    boolean act = false;
    boolean linear = false;
    boolean norm = false;
    for (TensorRow r : rows) {
      String op = r.opType();
      String motif = r.motif() == null ? "" : r.motif().toLowerCase(Locale.ROOT);
      norm |= NORM_OPS.contains(op) || motif.contains("norm");
      reduceMean |= op.equals("ReduceMean");
      sqrtOrPow |= op.equals("Sqrt") || op.equals("Pow");
      softmax |= op.equals("Softmax");
      act |= GELU_OPS.contains(op) || OTHER_ACT_OPS.contains(op) || motif.contains("gelu");
      linear |= LINEAR_OPS.contains(op);
    }
    boolean namedScope = !last.equals(scope) || scope.contains("/");
    if (norm || (reduceMean && sqrtOrPow) || (namedScope && NORM_SCOPE.matcher(last).matches())) {
      return Kind.NORM;
    }
    if (softmax) {
      return Kind.SOFTMAX;
    }
    if (act || (namedScope && !linear && ACT_SCOPE.matcher(last).matches())) {
      return Kind.ACT;
    }
    return linear ? Kind.LINEAR : Kind.OTHER;
  }
}
